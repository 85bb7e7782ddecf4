"""Bollinger bands (20, 2): a 20-bar SMA of the close +/- 2 population standard deviations.

TA-Lib's BBANDS uses the population standard deviation (ddof = 0), as Bollinger does.
`bb_width` = (upper - lower) / middle, `bb_pctb` = where the close sits in the band
(0 at the lower band, 1 at the upper; 0.5 when the band has no width). `bb_width_rank`
is the percentile of today's width among the 120 widths up to today (this one included):
the fraction of the 119 others strictly below it, ties counted half, so 0 is the tightest
band of the last 120 bars: the squeeze that volatility-breakout setups look for.

Warm-up: bands from bar 19, the rank from bar 138 (19 + 119).
"""

from __future__ import annotations

import math

import numpy as np
import talib
from numba import njit

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "bollinger"
KEYS: tuple[str, ...] = (
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "bb_width",
    "bb_pctb",
    "bb_width_rank",
)
PERIOD = 20
DEVIATIONS = 2.0
RANK_WINDOW = 120


@njit(cache=True)
def rolling_rank(values: FloatArray, window: int) -> FloatArray:  # pragma: no cover - compiled
    """Percentile of values[i] among values[i-window+1 .. i], ties counted half, in 0..1.

    NaN until `window` consecutive non-NaN values. The same numbers as
    `_rolling_rank.rolling_percentile`, by brute force: the inner count over a contiguous
    slice compiles to SIMD compares, which on 750 bars beats that Fenwick tree ~3x.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    others = window - 1
    run = 0  # consecutive non-NaN values ending at i
    for i in range(n):
        x = values[i]
        if math.isnan(x):
            run = 0
            continue
        run += 1
        if run < window:
            continue
        earlier = values[i - others : i]
        below = 0
        equal = 0
        for j in range(others):
            below += earlier[j] < x
            equal += earlier[j] == x
        out[i] = (below + 0.5 * equal) / others
    return out


def compute(bars: OHLCV) -> Features:
    """Bands, width, %B and the width's rank over the last `RANK_WINDOW` bars."""
    close = bars.close
    # matype left at its default, the simple moving average
    upper, middle, lower = talib.BBANDS(
        close, timeperiod=PERIOD, nbdevup=DEVIATIONS, nbdevdn=DEVIATIONS
    )
    span = upper - lower
    width = span / middle
    # a band with no width puts the close in its middle; NaN spans stay NaN (NaN != 0)
    pctb = np.divide(close - lower, span, out=np.full(close.shape[0], 0.5), where=span != 0.0)
    return {
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "bb_width": width,
        "bb_pctb": pctb,
        "bb_width_rank": rolling_rank(width, RANK_WINDOW),
    }
