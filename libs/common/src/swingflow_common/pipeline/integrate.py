"""Integration: four stage scores -> one verdict, with the levels to trade it at.

`total = sum(w_i * s_i)` with the weights in force (`config.weights`). A candidate is
confirmed when the total reaches `confirm_threshold` and every stage reaches its
minimum (`config.stage_minimums`); a neutral stage (no model loaded) has nothing to say
and never blocks. A rejection names the first failing stage in pipeline order, or
`threshold`. Levels come from the ATR at the bar: entry = close,
stop = entry - stop_atr_multiple * ATR, target = entry + target_atr_multiple * ATR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import (
    STAGE_NAMES,
    CandidateSignal,
    ConfirmedSignal,
    FeatureContribution,
    StageName,
    StageScore,
)
from swingflow_common.pipeline.scoring import Rows, rounded, zeros_like

RejectedBy: TypeAlias = StageName | Literal["threshold"]
MIN_STOP_FRACTION = 0.01  # a stop never goes below 1% of the entry price (prices stay > 0)


class Levels(BaseModel):
    """Where to enter, where the trade is wrong, where it has worked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: float
    stop: float
    target: float


class Evaluation(BaseModel):
    """A candidate after all four stages: scores, verdict, reason, levels and the signal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidate: CandidateSignal
    base_signal: StageScore
    confirmation: StageScore
    ml_confidence: StageScore
    entry_timing: StageScore
    weights: dict[StageName, float]
    total: float
    threshold: float
    status: Literal["confirmed", "rejected"]
    rejected_by: RejectedBy | None
    reason: str
    levels: Levels
    model_version: str | None = None
    signal: ConfirmedSignal | None = None

    @property
    def stages(self) -> tuple[StageScore, StageScore, StageScore, StageScore]:
        """The four stage scores in pipeline order."""
        return (self.base_signal, self.confirmation, self.ml_confidence, self.entry_timing)

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


def level_values(close: float, atr: float, config: StrategyConfig) -> tuple[float, float]:
    """(stop, target) of an entry at `close`: a configured number of ATRs away."""
    risk = config.risk
    stop = max(close - risk.stop_atr_multiple * atr, close * MIN_STOP_FRACTION)
    target = close + risk.target_atr_multiple * atr
    return round(stop, 4), round(target, 4)


def level_rows(
    close: npt.NDArray[np.float64], atr: npt.NDArray[np.float64], config: StrategyConfig
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """`level_values` of many rows: the same operations, so the same floats."""
    risk = config.risk
    stop = np.maximum(close - risk.stop_atr_multiple * atr, close * MIN_STOP_FRACTION)
    target = close + risk.target_atr_multiple * atr
    return np.array(rounded(stop, 4)), np.array(rounded(target, 4))


def levels_for(close: float, atr: float, config: StrategyConfig) -> Levels:
    """Entry at the close, stop and target a configured number of ATRs away."""
    stop, target = level_values(close, atr, config)
    return Levels(entry=close, stop=stop, target=target)


def total_rows(scores: Sequence[Rows], config: StrategyConfig) -> list[float]:
    """The weighted total of each row's four stage scores (pipeline order), rounded as
    `integrate` rounds it; the one formula both the per-candidate and the array path use."""
    weights = config.weights.as_dict()
    total: Rows = zeros_like(scores[0])
    for name, score in zip(STAGE_NAMES, scores, strict=True):
        total = total + weights[name] * score
    return rounded(total, 6)


def passed_rows(
    scores: Sequence[Rows], neutral: Sequence[bool], config: StrategyConfig
) -> npt.NDArray[np.bool_]:
    """Whether every stage of each row reaches its minimum (a neutral stage always does)."""
    minimums = config.stage_minimums.as_dict()
    ok: npt.NDArray[np.bool_] = np.ones(scores[0].shape[0], dtype=bool)
    for name, score, is_neutral in zip(STAGE_NAMES, scores, neutral, strict=True):
        if not is_neutral:
            ok &= score >= minimums[name]
    return ok


def _judge(stage: StageScore, minimum: float) -> StageScore:
    """The stage held against this config's minimum (a neutral stage always passes)."""
    passed = True if stage.neutral else stage.score >= minimum
    if stage.minimum == minimum and stage.passed == passed:
        return stage
    return stage.model_copy(update={"minimum": minimum, "passed": passed})


def _summary(stages: tuple[StageScore, ...]) -> str:
    return ", ".join(
        f"{s.stage} {s.score:.2f}" + (" (neutral)" if s.neutral else "") for s in stages
    )


def integrate(
    candidate: CandidateSignal,
    confirmation: StageScore,
    ml: StageScore,
    timing: StageScore,
    config: StrategyConfig,
    *,
    model_version: str | None = None,
    ml_contributions: tuple[FeatureContribution, ...] = (),
) -> Evaluation:
    """Weigh the four stages of `candidate` into an Evaluation (and a ConfirmedSignal)."""
    weights = config.weights.as_dict()
    minimums = config.stage_minimums.as_dict()
    raw = (candidate.base, confirmation, ml, timing)
    stages = tuple(_judge(s, minimums[name]) for s, name in zip(raw, STAGE_NAMES, strict=True))
    for s, name in zip(stages, STAGE_NAMES, strict=True):
        if s.stage != name:
            raise ValueError(f"stage {s.stage!r} given where {name!r} belongs")
    (total,) = total_rows([s.score for s in stages], config)
    threshold = config.confirm_threshold
    failing = next((s for s in stages if not s.passed), None)
    rejected_by: RejectedBy | None = None
    if failing is not None:
        rejected_by = failing.stage
        reason = (
            f"rejected by {failing.stage}: {failing.score:.2f} < minimum "
            f"{failing.minimum:.2f} ({failing.reason})"
        )
    elif total < threshold:
        rejected_by = "threshold"
        reason = f"rejected: total {total:.2f} < threshold {threshold:.2f}; {_summary(stages)}"
    else:
        reason = f"confirmed: total {total:.2f} >= threshold {threshold:.2f}; {_summary(stages)}"
    levels = levels_for(candidate.close, candidate.atr, config)
    signal = None
    if rejected_by is None:
        signal = ConfirmedSignal(
            id=candidate.id,
            symbol=candidate.symbol,
            ts=candidate.ts,
            setup=candidate.setup,
            entry=levels.entry,
            stop=levels.stop,
            target=levels.target,
            stages=stages,
            weights=weights,
            total=min(total, 1.0),
            threshold=threshold,
            model_version=model_version,
            ml_contributions=ml_contributions,
            reason=reason,
            ts_event=candidate.ts_event,
        )
    return Evaluation(
        candidate=candidate,
        base_signal=stages[0],
        confirmation=stages[1],
        ml_confidence=stages[2],
        entry_timing=stages[3],
        weights=weights,
        total=total,
        threshold=threshold,
        status="confirmed" if signal else "rejected",
        rejected_by=rejected_by,
        reason=reason,
        levels=levels,
        model_version=model_version,
        signal=signal,
    )
