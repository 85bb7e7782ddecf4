"""Ichimoku (9, 26, 52): conversion and base lines, and the cloud in force at each bar.

Charts draw the spans 26 bars ahead of the bar that computes them. Here every value is
the one that *applies* at bar i, so the spans at i are those computed at bar i - 26: the
cloud a chart shows under bar i, known since bar i - 26. The lagging span (chikou) is left
out: placed at bar i it would be the close of bar i + 26, a look into the future.

`ichimoku_above_cloud` is 1.0 when the close is above both spans, 0.0 otherwise (NaN
before the cloud exists, from bar 77 on: 52 bars for span B, then 26 of displacement).
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis._arrays import lag
from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "ichimoku"
KEYS: tuple[str, ...] = (
    "ichimoku_tenkan",
    "ichimoku_kijun",
    "ichimoku_span_a",
    "ichimoku_span_b",
    "ichimoku_above_cloud",
)
TENKAN = 9
KIJUN = 26
SENKOU_B = 52
DISPLACEMENT = 26


def _midrange(bars: OHLCV, period: int) -> FloatArray:
    """(highest high + lowest low) / 2 over the last `period` bars (TA-Lib's MIDPRICE)."""
    return talib.MIDPRICE(bars.high, bars.low, timeperiod=period)


def compute(bars: OHLCV) -> Features:
    """Tenkan, kijun, the spans in force at bar i, and whether the close is above them."""
    tenkan = _midrange(bars, TENKAN)
    kijun = _midrange(bars, KIJUN)
    span_a = lag((tenkan + kijun) / 2.0, DISPLACEMENT)
    span_b = lag(_midrange(bars, SENKOU_B), DISPLACEMENT)
    top = np.maximum(span_a, span_b)
    above = (bars.close > top).astype(np.float64)
    above[np.isnan(top)] = np.nan
    return {
        "ichimoku_tenkan": tenkan,
        "ichimoku_kijun": kijun,
        "ichimoku_span_a": span_a,
        "ichimoku_span_b": span_b,
        "ichimoku_above_cloud": above,
    }
