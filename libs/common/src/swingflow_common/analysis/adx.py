"""Average directional index (Wilder, 14): how strong the trend is, and which side leads.

TA-Lib's ADX, +DI and -DI: directional movement and true range Wilder-smoothed over 14
bars, DX = 100 |+DI - -DI| / (+DI + -DI), ADX = DX Wilder-smoothed over 14 more. TA-Lib
seeds its smoothed sums with 13 values rather than 14, a difference that fades by a factor
13/14 a bar. Trend setups want `adx_14` above ~20-25 with `plus_di_14` > `minus_di_14`.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "adx"
KEYS: tuple[str, ...] = ("adx_14", "plus_di_14", "minus_di_14")
PERIOD = 14


def compute(bars: OHLCV) -> Features:
    """ADX (NaN for the first 27 bars) and the two DIs (NaN for the first 14)."""
    high, low, close = bars.high, bars.low, bars.close
    return {
        "adx_14": talib.ADX(high, low, close, timeperiod=PERIOD),
        "plus_di_14": talib.PLUS_DI(high, low, close, timeperiod=PERIOD),
        "minus_di_14": talib.MINUS_DI(high, low, close, timeperiod=PERIOD),
    }
