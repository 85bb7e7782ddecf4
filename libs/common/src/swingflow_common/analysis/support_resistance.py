"""Support and resistance from confirmed swing pivots, and the close's distance to them.

A swing low at bar j is a low no higher than the 5 lows on each side of it (a swing high
mirrors it). Such a pivot is only *known* at bar j + 5, once the 5 bars after it have
printed, so at bar i only pivots with j <= i - 5 count (never the pivot a chart would
draw with hindsight). Among the pivots of the last 120 bars:

* `support` = the highest swing low at or below bar i's close;
* `resistance` = the lowest swing high at or above bar i's close;
* `dist_support_atr` = (close - support) / ATR(14) and `dist_resistance_atr` =
  (resistance - close) / ATR(14), both >= 0: room to the level in ATRs.

NaN when no pivot qualifies (e.g. a close above every recent swing high has no overhead
resistance) and, for the distances, during the ATR's 14-bar warm-up or with an ATR of 0.
"""

from __future__ import annotations

import numpy as np
import talib
from numba import njit

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "support_resistance"
KEYS: tuple[str, ...] = ("support", "resistance", "dist_support_atr", "dist_resistance_atr")
PIVOT = 5
LOOKBACK = 120
ATR_PERIOD = 14


@njit(cache=True)
def _is_pivot(values: FloatArray, j: int, low: bool) -> bool:
    """Whether values[j] is the min (low) or max of values[j - PIVOT .. j + PIVOT]."""
    for k in range(j - PIVOT, j + PIVOT + 1):
        if (values[k] < values[j]) if low else (values[k] > values[j]):
            return False
    return True


@njit(cache=True)
def levels(
    high: FloatArray, low: FloatArray, close: FloatArray, atr: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Support, resistance and their distances in ATRs, per bar (see the module)."""
    n = close.shape[0]
    support = np.full(n, np.nan)
    resistance = np.full(n, np.nan)
    lows = np.empty(n, np.int64)  # confirmed pivot bars, oldest first
    highs = np.empty(n, np.int64)
    n_lows = n_highs = first_low = first_high = 0
    for i in range(2 * PIVOT, n):
        j = i - PIVOT  # the bar that bar i confirms (or not) as a pivot
        if _is_pivot(low, j, True):
            lows[n_lows] = j
            n_lows += 1
        if _is_pivot(high, j, False):
            highs[n_highs] = j
            n_highs += 1
        while first_low < n_lows and lows[first_low] < i - LOOKBACK:
            first_low += 1
        while first_high < n_highs and highs[first_high] < i - LOOKBACK:
            first_high += 1
        c = close[i]
        for k in range(first_low, n_lows):
            level = low[lows[k]]
            if level <= c and not level <= support[i]:  # NaN-safe "above the best so far"
                support[i] = level
        for k in range(first_high, n_highs):
            level = high[highs[k]]
            if level >= c and not level >= resistance[i]:
                resistance[i] = level
    usable = atr > 0.0  # NaN during the warm-up, 0 for bars that never move
    dist_support = np.where(usable, (close - support) / np.where(usable, atr, 1.0), np.nan)
    dist_resistance = np.where(usable, (resistance - close) / np.where(usable, atr, 1.0), np.nan)
    return support, resistance, dist_support, dist_resistance


def compute(bars: OHLCV) -> Features:
    """Nearest confirmed support below and resistance above the close, and distances."""
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=ATR_PERIOD)
    support, resistance, dist_support, dist_resistance = levels(
        bars.high, bars.low, bars.close, atr
    )
    return {
        "support": support,
        "resistance": resistance,
        "dist_support_atr": dist_support,
        "dist_resistance_atr": dist_resistance,
    }
