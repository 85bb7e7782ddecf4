"""A constructed training set whose first feature carries a real signal."""

from __future__ import annotations

import numpy as np

from swingflow_common.ml.train import TrainingSet


def signal_set(n: int = 1200, seed: int = 1, strength: float = 2.0) -> TrainingSet:
    """Trades over ~4 years, 4 features; P(win) = sigmoid(strength * x0 - 0.5)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[rng.random((n, 4)) < 0.05] = np.nan  # some unknowns, as warming-up indicators give
    p = 1.0 / (1.0 + np.exp(-(strength * np.nan_to_num(x[:, 0]) - 0.5)))
    y = (rng.random(n) < p).astype(np.int64)
    starts = np.sort(
        np.datetime64("2018-01-01", "ns") + rng.integers(0, 1400, n) * np.timedelta64(1, "D")
    )
    ends = starts + rng.integers(1, 25, n) * np.timedelta64(1, "D")
    returns = np.where(y == 1, 0.06, -0.04) + rng.normal(0, 0.005, n)
    ids = tuple(f"S{i}" for i in range(n))
    return TrainingSet(
        ("f0", "f1", "f2", "f3"), x, y, returns, starts, ends, ids, ("trend_pullback",) * n
    )
