"""Average true range (Wilder, 14): the typical daily range, in price and in percent.

TA-Lib's ATR: the true range from bar 1 on (bar 0 has no previous close), seeded with the
mean of the first 14 true ranges, then Wilder-smoothed. Stops and targets are set in ATRs.
`natr_14` = 100 x atr_14 / close, the range as a percent of price, comparable across
symbols.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "atr"
KEYS: tuple[str, ...] = ("atr_14", "natr_14")
PERIOD = 14


def compute(bars: OHLCV) -> Features:
    """`atr_14` and `natr_14`, NaN for the first 14 bars."""
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=PERIOD)
    return {"atr_14": atr, "natr_14": 100.0 * atr / bars.close}
