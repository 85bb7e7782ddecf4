"""Stage 3, ml_confidence: the model's probability that the trade reaches target first.

The pipeline does not know which model runs: anything that answers a batch of candidates
with an `MlPredictReply` (the `ml.predict` reply message) is an `MlScorer`, be it a model
in-process or a NATS request to the ml service. With no model the stage is neutral:
score 0.5, passed, `neutral=True`, and it says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import (
    CandidateSignal,
    FeatureContribution,
    MlPrediction,
    MlPredictReply,
    StageScore,
)

NEUTRAL_SCORE = 0.5
NEUTRAL_REASON = "no model loaded: neutral"


class MlScorer(Protocol):
    """Scores a batch of candidates: one prediction per candidate, by signal id."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply: ...


@dataclass(frozen=True)
class MlOutcome:
    """The ML stage of one candidate, with what a ConfirmedSignal must carry about it."""

    stage: StageScore
    model_version: str | None = None
    contributions: tuple[FeatureContribution, ...] = ()


def neutral_ml_stage(config: StrategyConfig | None = None) -> StageScore:
    """The stage when no model is loaded: 0.5, passed, neutral."""
    minimum = config.stage_minimums.ml_confidence if config is not None else 0.0
    return StageScore(
        stage="ml_confidence",
        score=NEUTRAL_SCORE,
        minimum=minimum,
        passed=True,
        neutral=True,
        reason=NEUTRAL_REASON,
    )


def ml_stage(
    prediction: MlPrediction, model_version: str | None, config: StrategyConfig
) -> StageScore:
    """The stage from one model prediction; a neutral prediction gives the neutral stage."""
    if prediction.neutral:
        return neutral_ml_stage(config)
    minimum = config.stage_minimums.ml_confidence
    score = round(prediction.probability, 4)
    passed = score >= minimum
    top = sorted(prediction.contributions, key=lambda c: abs(c.contribution), reverse=True)[:3]
    drivers = ", ".join(f"{c.feature} {c.contribution:+.2f}" for c in top) or "none reported"
    verdict = "passed" if passed else f"below minimum {minimum:.2f}"
    return StageScore(
        stage="ml_confidence",
        score=score,
        minimum=minimum,
        passed=passed,
        reason=f"p(target first) {score:.2f} {verdict} (model {model_version}; top: {drivers})",
        details={"probability": score},
    )


def score_batch(
    candidates: Sequence[CandidateSignal], scorer: MlScorer | None, config: StrategyConfig
) -> list[MlOutcome]:
    """One MlOutcome per candidate (same order), from one call to the scorer.

    A candidate the reply does not mention gets the neutral stage, so a partial answer
    never drops a candidate.
    """
    if scorer is None or not candidates:
        return [MlOutcome(neutral_ml_stage(config)) for _ in candidates]
    reply = scorer.predict(candidates)
    by_id = {p.signal_id: p for p in reply.all_predictions()}
    out = []
    for cand in candidates:
        pred = by_id.get(cand.id)
        if pred is None or pred.neutral:
            out.append(MlOutcome(neutral_ml_stage(config)))
        else:
            stage = ml_stage(pred, reply.model_version, config)
            out.append(MlOutcome(stage, reply.model_version, pred.contributions))
    return out
