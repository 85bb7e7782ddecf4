"""Williams %R (14): the close against the range of the last 14 bars, on -100..0.

TA-Lib's WILLR: -100 (highest high - close) / (highest high - lowest low), so 0 is a
close at the top of the range and -100 one at the bottom. On a window with no range TA-Lib
reports 0 (reads as overbought); this module reports the neutral -50 there instead.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "williams_r"
KEYS: tuple[str, ...] = ("willr_14",)
PERIOD = 14
NEUTRAL = -50.0


def compute(bars: OHLCV) -> Features:
    """`willr_14`, NaN for the first 13 bars."""
    high, low = bars.high, bars.low
    willr = talib.WILLR(high, low, bars.close, timeperiod=PERIOD)
    if (high == low).any():  # a window with no range needs bars with none: rare, so check
        no_range = talib.MAX(high, timeperiod=PERIOD) == talib.MIN(low, timeperiod=PERIOD)
        willr[no_range] = NEUTRAL
    return {"willr_14": willr}
