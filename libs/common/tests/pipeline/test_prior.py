"""`setups._prior` (the extreme of the bars before each row) on many rows equals the
reduction of each row's own window, float for float: signed zeros and NaN-only windows
included, for consecutive rows (a whole history) and for scattered ones."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.pipeline.setups import _prior


def _window_by_window(arr: np.ndarray, idx: np.ndarray, width: int, reduce: np.ufunc) -> np.ndarray:
    padded = np.concatenate([np.full(width, np.nan), arr])
    return np.array([reduce.reduce(padded[r : r + width]) for r in np.clip(idx, 0, arr.size)])


@pytest.mark.parametrize("reduce", [np.fmax, np.fmin])
@pytest.mark.parametrize("width", [1, 2, 10, 20])
def test_many_rows_reduce_as_each_window_alone(reduce: np.ufunc, width: int) -> None:
    rng = np.random.default_rng(width)
    for trial in range(150):
        n = int(rng.integers(1, 300))
        if trial % 3 == 0:  # ties of 0.0 and -0.0, infinities, NaN
            arr = rng.choice([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, 2.5], size=n)
        elif trial % 3 == 1:  # many exact ties
            arr = rng.choice([0.0, 0.5, 1.0], size=n)
        else:
            arr = rng.normal(size=n)
        arr[rng.random(n) < 0.3] = np.nan
        if trial % 2:
            lo = int(rng.integers(-2, n))
            idx = np.arange(lo, lo + int(rng.integers(1, n + 5)))
        else:
            idx = rng.integers(-3, n + 3, size=int(rng.integers(1, 200)))
        got = _prior({"x": arr}, "x", idx, width, reduce)
        want = _window_by_window(arr, idx, width, reduce)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        known = ~np.isnan(want)
        assert got[known].tobytes() == want[known].tobytes()  # bit for bit: -0.0 is not 0.0
