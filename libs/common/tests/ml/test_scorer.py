"""The scorer's pieces that the service tests do not reach one by one."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.ml.scorer import top_features


def _argsort_top(contrib: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("seed", range(40))
def test_top_features_are_a_stable_argsorts_first_columns(seed: int) -> None:
    """Ties everywhere (small integers, zeros, equal magnitudes of both signs), rows of
    every width, k up to beyond the width: the same columns in the same order."""
    rng = np.random.default_rng(seed)
    rows, width = int(rng.integers(0, 60)), int(rng.integers(1, 14))
    if seed % 2:
        contrib = rng.integers(-3, 4, (rows, width)) * 0.5
    else:
        contrib = rng.standard_normal((rows, width))
        contrib[rng.random((rows, width)) < 0.4] = 0.0
    for k in range(1, width + 2):
        assert np.array_equal(top_features(contrib, k), _argsort_top(contrib, k))


def test_a_tie_at_the_kth_place_keeps_the_lower_column() -> None:
    contrib = np.array([[0.0, 0.3, -0.3, 0.1, 0.3], [0.5, 0.0, 0.0, 0.0, -0.4]])
    assert top_features(contrib, 2).tolist() == [[1, 2], [0, 4]]
    assert top_features(contrib, 3).tolist() == [[1, 2, 4], [0, 4, 1]]
