from __future__ import annotations

import math

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import signal_id
from swingflow_common.pipeline.candidates import candidates_at, evaluate
from swingflow_common.pipeline.ml_stage import MlOutcome
from swingflow_common.pipeline.snapshot import snapshot_at

from .factories import TS, feature_arrays, healthy_snapshot, pullback_features, stage

CONFIG = StrategyConfig()
LAST = 29


def test_candidates_at_builds_a_candidate_per_setup_hit() -> None:
    feats = pullback_features()
    [cand] = candidates_at("AAPL", TS, feats, LAST, CONFIG, rs_rank=0.83)
    assert cand.id == signal_id("AAPL", TS, "trend_pullback")
    assert (cand.symbol, cand.setup, cand.ts, cand.ts_event) == ("AAPL", "trend_pullback", TS, TS)
    assert cand.close == feats["close"][LAST]
    assert cand.atr == feats["atr_14"][LAST]
    assert cand.base.stage == "base_signal"
    assert cand.base.passed
    assert CONFIG.stage_minimums.base_signal <= cand.base.score <= 1.0
    assert cand.base.details  # the setup's component scores travel with it
    assert cand.features["rs_rank"] == 0.83
    assert cand.features["sma_200"] == feats["sma_200"][LAST]


def test_candidates_at_without_rank_carries_none() -> None:
    [cand] = candidates_at("AAPL", TS, pullback_features(), LAST, CONFIG)
    assert cand.features["rs_rank"] is None


def test_candidates_at_skips_a_bar_without_atr() -> None:
    assert candidates_at("AAPL", TS, pullback_features(atr_14=math.nan), LAST, CONFIG) == []
    assert candidates_at("AAPL", TS, pullback_features(atr_14=0.0), LAST, CONFIG) == []


def test_candidates_at_finds_nothing_without_a_setup() -> None:
    feats = feature_arrays(healthy_snapshot(rsi_14=65.0))
    assert candidates_at("AAPL", TS, feats, LAST, CONFIG) == []


def test_snapshot_turns_nan_and_inf_into_none() -> None:
    feats = feature_arrays({"a": 1.5, "b": None, "c": math.inf})
    assert snapshot_at(feats, 3) == {"a": 1.5, "b": None, "c": None}


def test_evaluate_without_ml_uses_the_neutral_stage() -> None:
    [cand] = candidates_at("AAPL", TS, pullback_features(), LAST, CONFIG, rs_rank=0.8)
    result = evaluate(cand, CONFIG)
    assert result.ml_confidence.neutral
    assert result.ml_confidence.score == 0.5
    assert [s.stage for s in result.stages] == [
        "base_signal",
        "confirmation",
        "ml_confidence",
        "entry_timing",
    ]
    assert result.status == "confirmed", result.reason
    assert result.signal is not None
    assert result.signal.model_version is None


def test_evaluate_with_a_model_outcome_carries_its_version() -> None:
    [cand] = candidates_at("AAPL", TS, pullback_features(), LAST, CONFIG, rs_rank=0.8)
    result = evaluate(cand, CONFIG, MlOutcome(stage("ml_confidence", 0.9), "m3"))
    assert result.ml_confidence.score == 0.9
    assert result.model_version == "m3"
    assert result.signal is not None
    assert result.signal.model_version == "m3"


def test_evaluate_is_deterministic() -> None:
    [cand] = candidates_at("AAPL", TS, pullback_features(), LAST, CONFIG, rs_rank=0.8)
    assert evaluate(cand, CONFIG) == evaluate(cand, CONFIG)
