"""Small array helpers shared by the analysis modules (not a module: no NAME, no compute).

Every helper keeps the contract of the modules: float64 in, float64 of the same length
out, NaN where a value is not yet defined, and no value at `i` that reads past `i`.
"""

from __future__ import annotations

import math

import numpy as np
import talib

from swingflow_common.analysis.base import FloatArray


def nans(n: int) -> FloatArray:
    """An all-NaN float64 array of length `n`."""
    return np.full(n, np.nan, dtype=np.float64)


def lag(values: FloatArray, k: int = 1) -> FloatArray:
    """`values` shifted `k` bars later: out[i] = values[i - k], NaN for the first `k`."""
    out = nans(values.shape[0])
    if k < values.shape[0]:
        out[k:] = values[: values.shape[0] - k]
    return out


def divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den, NaN where den is 0 or NaN (an undefined ratio, never inf)."""
    out = nans(num.shape[0])
    np.divide(num, den, out=out, where=den != 0.0)
    return out


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """Wilder's true range; bar 0 has no previous close, so it is high - low."""
    prev = lag(close)
    prev[:1] = close[:1]
    return np.maximum(high, prev) - np.minimum(low, prev)


def recursive_average(values: FloatArray, alpha: float, seed: float, start: int) -> FloatArray:
    """y[start] = seed, y[i] = y[i-1] + alpha * (values[i] - y[i-1]) for i > start.

    The exponential (alpha = 2 / (n + 1)) and Wilder (alpha = 1 / n) averages with any seed,
    run by TA-Lib's C loop: TA-Lib's EMA of period p = 2 / alpha - 1 starts from the mean
    of its first p inputs, so p - 1 copies of the seed in front make that mean the seed.
    """
    n = values.shape[0]
    out = nans(n)
    if start >= n:
        return out
    period = round(2.0 / alpha - 1.0)
    if not math.isclose(2.0 / (period + 1), alpha):
        raise ValueError(f"alpha {alpha} is not 2 / (p + 1) for an integer p")
    padded = np.concatenate((np.full(period, seed), values[start + 1 :]))
    out[start:] = talib.EMA(padded, timeperiod=period)[period - 1 :]
    return out
