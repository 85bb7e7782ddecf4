from __future__ import annotations

import math

import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.pipeline.confirmation import COMPONENT_WEIGHTS, confirm

from .factories import healthy_snapshot

CONFIG = StrategyConfig()

# a middling trend: weak ADX, DI barely positive, flat weekly, average relative strength
MIDDLING = {
    "adx_14": 18.0,
    "plus_di_14": 20.0,
    "minus_di_14": 18.0,
    "weekly_trend": 0.0,
    "rs_rank": 0.45,
}
WEAK_VOLUME = {"rvol_20": 0.6, "obv_slope_20": -0.2, "mfi_14": 30.0, "cmf_20": -0.15}
STRONG_VOLUME = {"rvol_20": 2.2, "obv_slope_20": 0.4, "mfi_14": 70.0, "cmf_20": 0.2}


def test_confirm_passes_a_healthy_trend() -> None:
    result = confirm(healthy_snapshot(), CONFIG)
    assert result.stage == "confirmation"
    assert result.passed
    assert result.score >= CONFIG.stage_minimums.confirmation
    assert set(COMPONENT_WEIGHTS) <= set(result.details)


def test_confirm_rejects_weak_volume() -> None:
    weak = confirm(healthy_snapshot(**MIDDLING, **WEAK_VOLUME), CONFIG)
    strong = confirm(healthy_snapshot(**MIDDLING, **STRONG_VOLUME), CONFIG)
    assert not weak.passed
    assert strong.passed, "the same bar with volume behind it is confirmed"
    assert "weak: " in weak.reason
    assert "volume 0.00" in weak.reason.split("weak: ")[1]
    assert "strong: volume" in strong.reason


def test_confirm_skips_missing_rs_rank_and_renormalizes() -> None:
    result = confirm(healthy_snapshot(rs_rank=None), CONFIG)
    assert "relative_strength" not in result.details
    assert "missing: relative_strength" in result.reason
    others = [k for k in COMPONENT_WEIGHTS if k != "relative_strength"]
    expected = sum(COMPONENT_WEIGHTS[k] * result.details[k] for k in others) / sum(
        COMPONENT_WEIGHTS[k] for k in others
    )
    assert result.score == pytest.approx(expected, abs=1e-3)


def test_confirm_scores_a_strong_downtrend_as_no_trend() -> None:
    result = confirm(healthy_snapshot(adx_14=40.0, plus_di_14=10.0, minus_di_14=30.0), CONFIG)
    assert result.details["trend"] == 0.0
    assert "trend 0.00" in result.reason


def test_confirm_weekly_downtrend_lowers_the_score() -> None:
    up = confirm(healthy_snapshot(weekly_trend=1.0), CONFIG)
    down = confirm(healthy_snapshot(weekly_trend=-1.0), CONFIG)
    assert down.score < up.score
    assert down.details["weekly"] == 0.0


def test_confirm_minimum_comes_from_config() -> None:
    strict = StrategyConfig.model_validate({"stage_minimums": {"confirmation": 0.95}})
    snap = healthy_snapshot()
    assert confirm(snap, CONFIG).passed
    result = confirm(snap, strict)
    assert not result.passed
    assert result.minimum == 0.95
    assert "below minimum 0.95" in result.reason


def test_confirm_without_any_data_fails() -> None:
    result = confirm({"close": 10.0}, CONFIG)
    assert not result.passed
    assert result.score == 0.0


def test_confirm_treats_nan_like_missing() -> None:
    result = confirm(healthy_snapshot(rvol_20=math.nan, mfi_14=None), CONFIG)
    assert "volume_rvol" not in result.details
    assert "volume_mfi" not in result.details
    assert "volume_obv" in result.details


def test_heavy_volume_confirms_an_up_bar_but_not_a_down_bar() -> None:
    up_heavy = confirm(healthy_snapshot(open=98.0, close=100.0, rvol_20=2.5), CONFIG)
    down_heavy = confirm(healthy_snapshot(open=102.0, close=100.0, rvol_20=2.5), CONFIG)
    down_light = confirm(healthy_snapshot(open=102.0, close=100.0, rvol_20=0.7), CONFIG)
    assert up_heavy.details["volume_rvol"] == 1.0
    assert down_heavy.details["volume_rvol"] == 0.0  # distribution
    assert down_light.details["volume_rvol"] == 1.0  # a quiet pullback
