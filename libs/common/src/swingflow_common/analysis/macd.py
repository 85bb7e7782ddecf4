"""MACD (12, 26, 9): the gap between a fast and a slow EMA of the close, and its signal.

TA-Lib's MACD: `macd` = EMA12 - EMA26, `macd_signal` = EMA9 of `macd`, `macd_hist` their
difference. TA-Lib seeds both EMAs at bar 25, the fast one from the mean of closes 14..25
where StockCharts uses closes 0..11, so the first few dozen values differ from StockCharts'
by an amount that shrinks by 11/13 a bar (below 1e-6 by bar ~120). `macd_cross_up` is
1.0 on the bar where `macd` closes above `macd_signal` after being at or below it on the
bar before, else 0.0.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis._arrays import nans
from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "macd"
KEYS: tuple[str, ...] = ("macd", "macd_signal", "macd_hist", "macd_cross_up")
FAST, SLOW, SIGNAL = 12, 26, 9


def cross_up(fast: FloatArray, slow: FloatArray) -> FloatArray:
    """1.0 where `fast` > `slow` on bar i but not on bar i-1, else 0.0.

    NaN where either line is NaN on bar i or bar i-1 (the cross is not yet decidable).
    """
    n = fast.shape[0]
    out = nans(n)
    if n < 2:
        return out
    above = fast > slow
    known = ~(np.isnan(fast) | np.isnan(slow))
    decidable = known[1:] & known[:-1]
    out[1:] = np.where(decidable, (above[1:] & ~above[:-1]).astype(np.float64), np.nan)
    return out


def compute(bars: OHLCV) -> Features:
    """MACD line, signal, histogram (NaN for the first 33 bars) and the cross (from 34)."""
    macd, signal, hist = talib.MACD(
        bars.close, fastperiod=FAST, slowperiod=SLOW, signalperiod=SIGNAL
    )
    return {
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "macd_cross_up": cross_up(macd, signal),
    }
