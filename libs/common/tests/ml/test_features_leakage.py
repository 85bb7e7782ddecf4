"""The model sees only what the pipeline knew at the signal's bar: rewriting every bar
after a date leaves the features of every signal up to that date exactly as they were."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, synthetic_universe
from swingflow_common.messages import CandidateSignal, StageScore, signal_id
from swingflow_common.ml.features import (
    candidate_features,
    feature_matrix,
    feature_names,
    module_features,
    regime_trend,
)
from swingflow_common.pipeline.history import candidates_over_history

CONFIG = StrategyConfig()


def scrambled_after(data: Dataset, cut: pd.Timestamp, seed: int = 7) -> Dataset:
    """Every bar after `cut` multiplied by a random factor (volume by another): bars stay
    valid (high >= open, close >= low) but tell a different story."""
    rng = np.random.default_rng(seed)
    bars = {}
    for symbol, frame in data.bars.items():
        frame = frame.copy()
        later = frame.index > cut
        n = int(later.sum())
        price = rng.uniform(0.5, 1.8, n)
        for col in ("open", "high", "low", "close"):
            frame.loc[later, col] = frame.loc[later, col].to_numpy() * price
        frame.loc[later, "volume"] = frame.loc[later, "volume"].to_numpy() * rng.uniform(0.1, 9, n)
        bars[symbol] = frame
    return Dataset(name=f"{data.name}-scrambled", bars=bars, adjustment=data.adjustment)


def rows_by_id(cands: list[CandidateSignal]) -> dict[str, dict[str, float]]:
    return {c.id: candidate_features(c, CONFIG) for c in cands}


def test_changing_every_bar_after_the_signal_leaves_its_features_unchanged() -> None:
    data = synthetic_universe(5, 460, seed=3)
    cut = data.dates[340]
    before = candidates_over_history(data, CONFIG)
    after = candidates_over_history(scrambled_after(data, cut), CONFIG)

    early = [c for c in before if c.ts <= cut]
    early_after = [c for c in after if c.ts <= cut]
    assert len(early) > 20  # enough signals for the test to mean something
    assert [c.id for c in early] == [c.id for c in early_after]
    names = feature_names(rows_by_id(before).values())
    x, y = feature_matrix(early, names, CONFIG), feature_matrix(early_after, names, CONFIG)
    assert np.array_equal(x, y, equal_nan=True)

    # ...while the scrambled bars did change what came after the cut
    late = {c.id: c for c in before if c.ts > cut}
    late_after = {c.id: c for c in after if c.ts > cut}
    same_ids = late.keys() & late_after.keys()
    assert late.keys() != late_after.keys() or any(
        late[i].features != late_after[i].features for i in same_ids
    )


def test_price_levels_become_distances_from_the_close_and_sizes_are_dropped() -> None:
    snap = {"close": 100.0, "sma_200": 80.0, "atr_14": 2.0, "rsi_14": 55.0, "volume": 1e6,
            "obv": 3e9, "open": None, "sma_50": 90.0}  # fmt: skip
    out = module_features(snap)
    assert out["sma_200_vs_close"] == pytest.approx(-0.2)
    assert out["atr_14_pct_close"] == 0.02
    assert out["rsi_14"] == 55.0
    assert math.isnan(out["open_vs_close"])
    assert not {"close", "volume", "obv", "sma_200"} & out.keys()
    assert regime_trend(snap) == 1.0
    assert regime_trend({**snap, "close": 75.0}) == 0.5
    assert math.isnan(regime_trend({**snap, "sma_200": None}))


def test_a_candidate_carries_its_stage_scores_setup_and_regime() -> None:
    ts = pd.Timestamp("2024-03-01", tz="UTC").to_pydatetime()
    base = StageScore(stage="base_signal", score=0.7, passed=True, reason="t")
    cand = CandidateSignal(id=signal_id("T", ts, "breakout_volume"), symbol="T", ts=ts,
                           setup="breakout_volume", close=100, atr=2, base=base,
                           features={"close": 100.0, "rsi_14": 60.0}, ts_event=ts)  # fmt: skip
    row = candidate_features(cand, CONFIG)
    assert row["stage_base"] == 0.7
    assert 0.0 <= row["stage_confirmation"] <= 1.0
    assert 0.0 <= row["stage_entry_timing"] <= 1.0
    assert row["setup_breakout_volume"] == 1.0
    assert row["setup_trend_pullback"] == 0.0
    names = feature_names([row])
    matrix = feature_matrix([cand], names, CONFIG)
    assert matrix.shape == (1, len(names))
    assert matrix[0, names.index("rsi_14")] == 60.0
