"""Supertrend (ATR 10, multiplier 3): a trailing ATR band that flips with the trend.

Standard rules, on hl2 = (high + low) / 2 and TA-Lib's ATR(10):

* basic bands: hl2 +/- 3 x ATR;
* final upper band ratchets down only: it takes the basic upper band when that is lower
  than yesterday's final upper band or when yesterday's close broke above it, else it
  keeps yesterday's; the final lower band mirrors this upwards;
* the trend turns down when the close falls below the final lower band and up when it
  rises above the final upper band; it starts up on the first bar with an ATR.

`supertrend` is the final lower band in an uptrend, the final upper band in a downtrend;
`supertrend_dir` is +1 / -1. The recursion runs in numba: a Python loop is too slow for
the scan budget. NaN for the first 10 bars (TA-Lib's ATR(10) warm-up).
"""

from __future__ import annotations

import math

import numpy as np
import talib
from numba import njit

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "supertrend"
KEYS: tuple[str, ...] = ("supertrend", "supertrend_dir")
ATR_PERIOD = 10
MULTIPLIER = 3.0


@njit(cache=True)
def trail(
    hl2: FloatArray, atr: FloatArray, close: FloatArray, multiplier: float
) -> tuple[FloatArray, FloatArray]:
    """The supertrend line and direction from the midpoints, the ATR and the closes."""
    n = close.shape[0]
    line = np.full(n, np.nan)
    direction = np.full(n, np.nan)
    upper = np.nan
    lower = np.nan
    up = True
    started = False
    for i in range(n):
        if math.isnan(atr[i]):
            continue
        basic_upper = hl2[i] + multiplier * atr[i]
        basic_lower = hl2[i] - multiplier * atr[i]
        if not started:
            upper, lower, up, started = basic_upper, basic_lower, True, True
        else:
            prev_close = close[i - 1]
            if basic_upper < upper or prev_close > upper:
                upper = basic_upper
            if basic_lower > lower or prev_close < lower:
                lower = basic_lower
            if up and close[i] < lower:
                up = False
            elif not up and close[i] > upper:
                up = True
        line[i] = lower if up else upper
        direction[i] = 1.0 if up else -1.0
    return line, direction


def compute(bars: OHLCV) -> Features:
    """`supertrend` (price level) and `supertrend_dir` (+1 up, -1 down)."""
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=ATR_PERIOD)
    hl2 = (bars.high + bars.low) / 2.0
    line, direction = trail(hl2, atr, bars.close, MULTIPLIER)
    return {"supertrend": line, "supertrend_dir": direction}
