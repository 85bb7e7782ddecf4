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
resistance) and, for the distances, during the ATR's 14-bar warm-up.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib
from numba import njit

from swingflow_common.analysis._arrays import divide, nans
from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "support_resistance"
KEYS: tuple[str, ...] = ("support", "resistance", "dist_support_atr", "dist_resistance_atr")
PIVOT = 5
LOOKBACK = 120
ATR_PERIOD = 14
IntArray = npt.NDArray[np.int64]


def pivot_bars(values: FloatArray, extreme: FloatArray) -> IntArray:
    """Bars j whose value equals the extreme of values[j-PIVOT .. j+PIVOT].

    `extreme` is TA-Lib's MIN or MAX over 2 x PIVOT + 1 bars, which at bar j + PIVOT
    covers exactly that span: the pivot is confirmed at bar j + PIVOT.
    """
    if values.shape[0] <= 2 * PIVOT:
        return np.empty(0, np.int64)
    centre = values[: values.shape[0] - PIVOT]
    return np.flatnonzero(centre == extreme[PIVOT:])


@njit(cache=True)
def nearest_levels(
    close: FloatArray, low: FloatArray, lows: IntArray, high: FloatArray, highs: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per bar, the highest known swing low <= close and the lowest swing high >= close."""
    n = close.shape[0]
    support = np.full(n, np.nan)
    resistance = np.full(n, np.nan)
    lo_first = lo_end = hi_first = hi_end = 0
    for i in range(n):
        newest = i - PIVOT  # the latest pivot bar confirmed by bar i
        oldest = i - LOOKBACK
        while lo_end < lows.shape[0] and lows[lo_end] <= newest:
            lo_end += 1
        while lo_first < lo_end and lows[lo_first] < oldest:
            lo_first += 1
        while hi_end < highs.shape[0] and highs[hi_end] <= newest:
            hi_end += 1
        while hi_first < hi_end and highs[hi_first] < oldest:
            hi_first += 1
        c = close[i]
        for k in range(lo_first, lo_end):
            level = low[lows[k]]
            if level <= c and not level <= support[i]:  # NaN-safe "above the best so far"
                support[i] = level
        for k in range(hi_first, hi_end):
            level = high[highs[k]]
            if level >= c and not level >= resistance[i]:
                resistance[i] = level
    return support, resistance


def compute(bars: OHLCV) -> Features:
    """Nearest confirmed support below and resistance above the close, and distances."""
    n = len(bars)
    if n <= 2 * PIVOT:
        return {key: nans(n) for key in KEYS}
    span = 2 * PIVOT + 1
    lows = pivot_bars(bars.low, talib.MIN(bars.low, timeperiod=span))
    highs = pivot_bars(bars.high, talib.MAX(bars.high, timeperiod=span))
    support, resistance = nearest_levels(bars.close, bars.low, lows, bars.high, highs)
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=ATR_PERIOD)
    return {
        "support": support,
        "resistance": resistance,
        "dist_support_atr": divide(bars.close - support, atr),
        "dist_resistance_atr": divide(resistance - bars.close, atr),
    }
