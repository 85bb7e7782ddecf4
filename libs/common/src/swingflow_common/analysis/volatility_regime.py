"""Volatility regime: 20-day realized volatility and where it sits in its last year.

`vol_20` is the sample standard deviation (ddof = 1) of the last 20 daily log returns,
annualized by sqrt(252). `vol_regime` is the percentile of today's `vol_20` among the 252
values up to today (this one included): the fraction of the 251 others strictly below
it, ties counted half, so 0 = calmest of the year, 1 = most volatile, 0.5 = typical.
Squeeze setups want a low regime; stops widen in a high one.

Warm-up: `vol_20` from bar 20, `vol_regime` from bar 271 (20 + 251).
"""

from __future__ import annotations

import math

import numpy as np
import talib

from swingflow_common.analysis._arrays import nans
from swingflow_common.analysis._rolling_rank import rolling_percentile
from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "volatility_regime"
KEYS: tuple[str, ...] = ("vol_20", "vol_regime")
VOL_PERIOD = 20
RANK_WINDOW = 252
ANNUALIZATION = math.sqrt(252.0)
SAMPLE_CORRECTION = math.sqrt(VOL_PERIOD / (VOL_PERIOD - 1))


def realized_vol(close: FloatArray) -> FloatArray:
    """Annualized sample std of the last `VOL_PERIOD` log returns; NaN before bar 20."""
    n = close.shape[0]
    out = nans(n)
    if n <= VOL_PERIOD:
        return out
    returns = np.log(close[1:] / close[:-1])
    # TA-Lib's STDDEV is the population one (ddof = 0): rescale it to the sample one.
    population = talib.STDDEV(returns, timeperiod=VOL_PERIOD, nbdev=1.0)
    out[1:] = population * SAMPLE_CORRECTION * ANNUALIZATION
    return out


def compute(bars: OHLCV) -> Features:
    """`vol_20` (annualized) and `vol_regime` (0..1)."""
    vol = realized_vol(bars.close)
    return {"vol_20": vol, "vol_regime": rolling_percentile(vol, RANK_WINDOW)}
