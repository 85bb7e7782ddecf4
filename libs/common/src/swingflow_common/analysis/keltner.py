"""Keltner channel, StockCharts version: EMA(20) of close +/- 2 x ATR(10).

Follows the StockCharts ChartSchool worksheet (kept as `cs-kc.csv`), not TA-Lib's
seeding, so that the numbers match the reference people compare against:

* middle: EMA(20) of close seeded with the first close (not with a 20-bar SMA);
* ATR(10): the first value (bar 9) is the mean of the first 10 true ranges, bar 0's
  true range being high - low; then Wilder's smoothing atr += (tr - atr) / 10.

The EMA still carries its seed for a while, so the channel is reported from bar 19 on
(the EMA's usual 20-bar warm-up), NaN before. Both recursions run in one numba pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "keltner"
KEYS: tuple[str, ...] = ("kc_upper", "kc_middle", "kc_lower")
EMA_PERIOD = 20
ATR_PERIOD = 10
MULTIPLIER = 2.0


@njit(cache=True)
def channel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    ema_period: int,
    atr_period: int,
    multiplier: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Upper, middle and lower band; NaN before bar `ema_period - 1`."""
    n = close.shape[0]
    upper = np.full(n, np.nan)
    middle = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    alpha = 2.0 / (ema_period + 1)
    ema = close[0] if n > 0 else np.nan
    atr = 0.0
    for i in range(n):
        prev = close[i - 1] if i > 0 else close[0]
        tr = max(high[i], prev) - min(low[i], prev)
        if i > 0:
            ema += alpha * (close[i] - ema)
        if i < atr_period:
            atr += tr / atr_period  # the mean of the first `atr_period` true ranges
        else:
            atr += (tr - atr) / atr_period
        if i >= ema_period - 1:
            middle[i] = ema
            upper[i] = ema + multiplier * atr
            lower[i] = ema - multiplier * atr
    return upper, middle, lower


def compute(bars: OHLCV) -> Features:
    """The three bands; NaN before bar `EMA_PERIOD - 1`."""
    upper, middle, lower = channel(
        bars.high, bars.low, bars.close, EMA_PERIOD, ATR_PERIOD, MULTIPLIER
    )
    return {"kc_upper": upper, "kc_middle": middle, "kc_lower": lower}
