"""The ml service's batch feature matrix (column by column, the stages' row functions over
the whole batch) equals the one built a candidate at a time (what training uses), bit for
bit, on real candidates of the bundled data."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin
from swingflow_common.messages import CandidateSignal
from swingflow_common.ml.features import (
    candidate_features,
    feature_matrix,
    feature_matrix_rows,
    feature_names,
)
from swingflow_common.pipeline.history import candidates_over_history

CONFIG = StrategyConfig()


@pytest.fixture(scope="module")
def real_candidates() -> list[CandidateSignal]:
    data = load_builtin("megacaps-2013-2023")
    return candidates_over_history(data, CONFIG, start="2013-01-01", end="2016-12-31")


def same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal as float64 bit patterns (NaN == NaN, and 0.0 != -0.0)."""
    return x.shape == y.shape and np.array_equal(x.view(np.int64), y.view(np.int64))


def test_batch_matrix_equals_the_per_candidate_one_on_real_candidates(
    real_candidates: list[CandidateSignal],
) -> None:
    cands = real_candidates
    assert len(cands) > 200
    assert len({c.setup for c in cands}) >= 3  # entry timing is scored per setup
    names = feature_names(candidate_features(c, CONFIG) for c in cands)
    batch, rows = feature_matrix(cands, names, CONFIG), feature_matrix_rows(cands, names, CONFIG)
    assert same_bits(batch, rows)
    # the stage scores are real numbers, not NaN everywhere
    for name in ("stage_confirmation", "stage_entry_timing", "regime_trend"):
        column = batch[:, names.index(name)]
        assert np.isfinite(column).sum() > len(cands) // 2
        assert len(np.unique(column[np.isfinite(column)])) > 10 or name == "regime_trend"


def test_batch_matrix_with_gaps_unknown_keys_and_a_different_column_order(
    real_candidates: list[CandidateSignal],
) -> None:
    """Snapshots with missing, None and infinite values, and names the model has that the
    snapshots lack (NaN) or lacks that they have (dropped)."""
    cands = []
    for i, c in enumerate(real_candidates[:120]):
        snap = dict(c.features)
        keys = sorted(snap)
        snap.pop(keys[i % len(keys)])
        snap[keys[(i * 7) % len(keys)]] = None
        if i % 5 == 0:
            snap["close"] = None  # every level unknown, no regime
        if i % 11 == 0:
            snap["adx_14"] = float("inf")
        cands.append(c.model_copy(update={"features": snap}))
    names = list(feature_names(candidate_features(c, CONFIG) for c in cands))
    names = [*reversed(names[5:]), "not_a_feature"]  # some left out, one unknown
    batch = feature_matrix(cands, names, CONFIG)
    assert same_bits(batch, feature_matrix_rows(cands, names, CONFIG))
    assert np.isnan(batch[:, -1]).all()


def test_an_empty_batch() -> None:
    assert feature_matrix([], ("stage_base",), CONFIG).shape == (0, 1)


def test_a_snapshot_with_a_key_and_its_renamed_twin_falls_back_to_row_order(
    real_candidates: list[CandidateSignal],
) -> None:
    c = real_candidates[0]
    twin = c.model_copy(update={"features": {**c.features, "sma_50_vs_close": 0.25}})
    names = feature_names([candidate_features(twin, CONFIG)])
    assert same_bits(feature_matrix([twin, c], names, CONFIG),
                     feature_matrix_rows([twin, c], names, CONFIG))  # fmt: skip


def test_one_snapshot_layout_with_unknown_values_equals_the_rows(
    real_candidates: list[CandidateSignal],
) -> None:
    """The scanner's case, every snapshot listing the same keys in the same order (read
    as one array), here with None, NaN and infinities in some rows."""
    cands = []
    for i, c in enumerate(real_candidates[:150]):
        snap = dict(c.features)  # same keys, same order
        keys = list(snap)
        snap[keys[i % len(keys)]] = None
        snap[keys[(i * 3) % len(keys)]] = [float("inf"), float("-inf"), float("nan")][i % 3]
        if i % 7 == 0:
            snap["close"] = None
        cands.append(c.model_copy(update={"features": snap}))
    assert len({tuple(c.features) for c in cands}) == 1
    names = feature_names(candidate_features(c, CONFIG) for c in cands)
    assert same_bits(feature_matrix(cands, names, CONFIG),
                     feature_matrix_rows(cands, names, CONFIG))  # fmt: skip


def test_the_same_keys_in_another_order_and_empty_snapshots(
    real_candidates: list[CandidateSignal],
) -> None:
    cands = real_candidates[:60]
    shuffled = [
        c.model_copy(update={"features": dict(reversed(c.features.items()))}) if i % 2 else c
        for i, c in enumerate(cands)
    ]
    names = feature_names(candidate_features(c, CONFIG) for c in cands)
    batch = feature_matrix(shuffled, names, CONFIG)
    assert same_bits(batch, feature_matrix_rows(shuffled, names, CONFIG))
    assert same_bits(batch, feature_matrix(cands, names, CONFIG))
    empty = [c.model_copy(update={"features": {}}) for c in cands[:5]]
    assert same_bits(feature_matrix(empty, names, CONFIG),
                     feature_matrix_rows(empty, names, CONFIG))  # fmt: skip
