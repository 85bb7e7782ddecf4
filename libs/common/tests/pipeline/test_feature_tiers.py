"""The scan computes the setup modules first and the rest only for symbols with a setup;
that shortcut must change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.analysis.base import OHLCV
from swingflow_common.config import StrategyConfig
from swingflow_common.data import synthetic_universe
from swingflow_common.pipeline import detect_setups
from swingflow_common.pipeline.features import (
    complete_features,
    compute_features,
    setup_features,
)


@pytest.fixture(scope="module")
def universe_bars() -> list[OHLCV]:
    data = synthetic_universe(12, 400, seed=7)
    return [OHLCV.from_frame(frame) for frame in data.bars.values()]


def test_completed_features_equal_the_full_computation(universe_bars: list[OHLCV]) -> None:
    for bars in universe_bars:
        full = compute_features(bars)
        tiered = complete_features(setup_features(bars), bars)
        assert tiered.keys() == full.keys()
        for key, values in full.items():
            np.testing.assert_array_equal(tiered[key], values, err_msg=key)


def test_setups_read_only_the_setup_tier(universe_bars: list[OHLCV]) -> None:
    """detect_setups on the first tier alone finds exactly what it finds on everything
    (a key missing from the tier would raise, a different value would change a hit)."""
    config = StrategyConfig()
    hits = 0
    for bars in universe_bars:
        base, full = setup_features(bars), compute_features(bars)
        for i in range(200, len(bars)):
            on_base = detect_setups(base, i, config)
            assert on_base == detect_setups(full, i, config)
            hits += len(on_base)
    assert hits > 0
