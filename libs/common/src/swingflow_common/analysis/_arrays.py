"""Small array helpers shared by the analysis modules (not a module: no NAME, no compute).

Every helper keeps the contract of the modules: float64 in, float64 of the same length
out, NaN where a value is not yet defined, and no value at `i` that reads past `i`.
"""

from __future__ import annotations

import numpy as np

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
