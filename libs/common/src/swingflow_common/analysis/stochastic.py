"""Slow stochastic (14, 3, 3): where the close sits in the range of the last 14 bars.

Fast %K = 100 (close - lowest low) / (highest high - lowest low) over 14 bars (TA-Lib's
STOCHF); `stoch_k` is its 3-bar SMA and `stoch_d` the 3-bar SMA of that, which is exactly
TA-Lib's STOCH with `fastk_period=14` (its default is 5), except on a 14-bar window with
no range (a halted or flat symbol): there STOCH reports a fast %K of 0 (deeply oversold)
and this module the neutral 50. `stoch_cross_up` is 1.0 when %K crossed above %D on this
bar or the one before (a momentum turn a day old still counts), else 0.0.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis._arrays import lag
from swingflow_common.analysis.base import OHLCV, Features
from swingflow_common.analysis.macd import cross_up

NAME = "stochastic"
KEYS: tuple[str, ...] = ("stoch_k", "stoch_d", "stoch_cross_up")
K_PERIOD, SLOW_K, SLOW_D = 14, 3, 3
NEUTRAL = 50.0


def compute(bars: OHLCV) -> Features:
    """%K (NaN for the first 15 bars), %D (17) and the cross (from bar 19)."""
    high, low = bars.high, bars.low
    fast_k, _ = talib.STOCHF(high, low, bars.close, fastk_period=K_PERIOD, fastd_period=1)
    if (high == low).any():  # a window with no range needs bars with none: rare, so check
        no_range = talib.MAX(high, timeperiod=K_PERIOD) == talib.MIN(low, timeperiod=K_PERIOD)
        fast_k[no_range] = NEUTRAL
    k = talib.SMA(fast_k, timeperiod=SLOW_K)
    d = talib.SMA(k, timeperiod=SLOW_D)
    crossed = cross_up(k, d)
    # np.maximum keeps NaN: undecided until both this bar's and the last bar's cross are known
    return {"stoch_k": k, "stoch_d": d, "stoch_cross_up": np.maximum(crossed, lag(crossed))}
