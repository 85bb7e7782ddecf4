from __future__ import annotations

import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import ConfirmedSignal, FeatureContribution, StageScore, decode
from swingflow_common.pipeline.integrate import Evaluation, integrate

from .factories import candidate, stage

CONFIG = StrategyConfig()


def run(
    base: float = 0.8,
    conf: float = 0.7,
    ml: StageScore | None = None,
    timing: float = 0.7,
    config: StrategyConfig = CONFIG,
    close: float = 100.0,
    atr: float = 2.0,
) -> Evaluation:
    return integrate(
        candidate(base=base, close=close, atr=atr),
        stage("confirmation", conf),
        ml if ml is not None else stage("ml_confidence", 0.5, neutral=True),
        stage("entry_timing", timing),
        config,
    )


def test_integrate_confirms_when_every_stage_passes_and_total_reaches_threshold() -> None:
    result = run()
    assert result.status == "confirmed"
    assert result.rejected_by is None
    sig = result.signal
    assert isinstance(sig, ConfirmedSignal)
    assert [s.stage for s in sig.stages] == [
        "base_signal",
        "confirmation",
        "ml_confidence",
        "entry_timing",
    ]
    assert sig.weights == CONFIG.weights.as_dict()
    assert sig.total == pytest.approx(result.total)
    assert sig.threshold == CONFIG.confirm_threshold
    assert sig.id == result.candidate.id
    assert sig.ts_event == result.candidate.ts_event
    assert "confirmed" in result.reason


def test_integrate_rejects_signal_below_threshold() -> None:
    result = run(base=0.55, conf=0.45, timing=0.35)  # all above their minimums
    assert result.total < CONFIG.confirm_threshold
    assert result.status == "rejected"
    assert result.rejected_by == "threshold"
    assert result.signal is None
    assert f"< threshold {CONFIG.confirm_threshold:.2f}" in result.reason


def test_integrate_names_first_failing_stage() -> None:
    result = run(conf=0.2, timing=0.1)  # confirmation and entry timing both below minimum
    assert result.rejected_by == "confirmation"
    assert result.reason.startswith("rejected by confirmation")
    assert not result.confirmation.passed
    assert not result.entry_timing.passed


def test_integrate_rejects_weak_base_even_with_a_high_total() -> None:
    result = run(base=0.45, conf=1.0, timing=1.0)
    assert result.total >= CONFIG.confirm_threshold
    assert result.rejected_by == "base_signal"


def test_weights_from_config_change_the_total() -> None:
    heavy_base = CONFIG.with_weights(
        {"base_signal": 0.7, "confirmation": 0.1, "ml_confidence": 0.1, "entry_timing": 0.1}
    )
    a, b = run(config=CONFIG), run(config=heavy_base)
    for result, cfg in ((a, CONFIG), (b, heavy_base)):
        w = cfg.weights.as_dict()
        expected = sum(w[s.stage] * s.score for s in result.stages)
        assert result.total == pytest.approx(expected)
        assert result.weights == w
    assert a.total != pytest.approx(b.total)


def test_optimized_weights_are_used_when_enabled() -> None:
    cfg = StrategyConfig.model_validate(
        {
            "use_optimized_weights": True,
            "optimized_weights": {
                "base_signal": 0.1,
                "confirmation": 0.1,
                "ml_confidence": 0.1,
                "entry_timing": 0.7,
            },
        }
    )
    assert run(config=cfg).weights["entry_timing"] == 0.7


def test_levels_come_from_atr_multiples() -> None:
    cfg = StrategyConfig.model_validate(
        {"risk": {"stop_atr_multiple": 1.5, "target_atr_multiple": 4.0}}
    )
    result = run(config=cfg, close=50.0, atr=1.2)
    assert result.levels.entry == 50.0
    assert result.levels.stop == pytest.approx(50.0 - 1.5 * 1.2)
    assert result.levels.target == pytest.approx(50.0 + 4.0 * 1.2)
    assert result.signal is not None
    assert result.signal.stop == result.levels.stop


def test_stop_never_falls_to_zero_on_a_huge_atr() -> None:
    result = run(close=10.0, atr=6.0)
    assert 0 < result.levels.stop < result.levels.entry


def test_neutral_ml_stage_never_blocks() -> None:
    cfg = StrategyConfig.model_validate({"stage_minimums": {"ml_confidence": 0.6}})
    result = run(config=cfg)
    assert result.status == "confirmed"
    assert result.ml_confidence.neutral
    assert result.ml_confidence.passed


def test_scored_ml_stage_below_minimum_rejects() -> None:
    cfg = StrategyConfig.model_validate({"stage_minimums": {"ml_confidence": 0.6}})
    result = run(config=cfg, ml=stage("ml_confidence", 0.55))
    assert result.rejected_by == "ml_confidence"


def test_stage_minimums_are_judged_by_the_config_given() -> None:
    strict = StrategyConfig.model_validate({"stage_minimums": {"base_signal": 0.9}})
    result = run(config=strict, base=0.8)  # the base stage says passed at its old minimum
    assert result.rejected_by == "base_signal"
    assert result.base_signal.minimum == 0.9
    assert not result.base_signal.passed


def test_stages_in_the_wrong_slot_are_refused() -> None:
    with pytest.raises(ValueError, match="stage 'entry_timing' given where 'confirmation'"):
        integrate(
            candidate(),
            stage("entry_timing", 0.7),
            stage("ml_confidence", 0.5),
            stage("entry_timing", 0.7),
            CONFIG,
        )


def test_confirmed_signal_carries_model_and_round_trips_json() -> None:
    contrib = (FeatureContribution(feature="rsi_14", value=45.0, contribution=0.2),)
    result = integrate(
        candidate(),
        stage("confirmation", 0.7),
        stage("ml_confidence", 0.8),
        stage("entry_timing", 0.7),
        CONFIG,
        model_version="m7",
        ml_contributions=contrib,
    )
    assert result.signal is not None
    assert result.signal.model_version == "m7"
    assert result.signal.ml_contributions == contrib
    assert decode(result.signal.model_dump_json()) == result.signal
