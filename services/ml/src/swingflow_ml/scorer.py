"""What answers `ml.predict`: a `Scorer`, held in a slot a model registry can swap.

Any object with `predict(candidates) -> MlPredictReply` is a Scorer (the pipeline's
`MlScorer` protocol). A trained model answers through `swingflow_common.ml.scorer.
ModelScorer`, installed at start (the promoted model) and on `ml.models.updated`. With no
model the slot holds the `NeutralScorer`, whose every prediction is neutral (probability
0.5, no model version): the signals service then scores the ML stage as neutral and says
so ("no model loaded: neutral").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from swingflow_common.messages import CandidateSignal, MlPrediction, MlPredictReply
from swingflow_common.pipeline import MlScorer
from swingflow_common.pipeline.ml_stage import NEUTRAL_SCORE

Scorer = MlScorer


@runtime_checkable
class JsonScorer(Protocol):
    """A scorer that can also answer with the reply's JSON bytes directly, for one batch
    or several scored together (a trained model's `ModelScorer`), every prediction
    non-neutral."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply: ...

    def predict_json(self, candidates: Sequence[CandidateSignal]) -> bytes: ...

    def predict_json_many(self, batches: Sequence[Sequence[CandidateSignal]]) -> list[bytes]: ...


class NeutralScorer:
    """No model loaded: every candidate gets the neutral prediction."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return MlPredictReply(
            model_version=None,
            predictions=tuple(
                MlPrediction(signal_id=c.id, probability=NEUTRAL_SCORE, neutral=True)
                for c in candidates
            ),
        )


class ScorerSlot:
    """The scorer in use; `install` swaps it between two requests, never during one."""

    def __init__(self, scorer: Scorer | None = None) -> None:
        self.scorer: Scorer = scorer or NeutralScorer()

    @property
    def loaded(self) -> bool:
        """True when a real model (not the neutral stand-in) answers."""
        return not isinstance(self.scorer, NeutralScorer)

    def install(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return self.scorer.predict(candidates)

    def answer_many(self, batches: Sequence[Sequence[CandidateSignal]]) -> list[tuple[bytes, int]]:
        """`[answer(b) for b in batches]`, scored together when the scorer can."""
        scorer = self.scorer
        if isinstance(scorer, JsonScorer):
            return [(reply, 0) for reply in scorer.predict_json_many(batches)]
        return [self.answer(batch) for batch in batches]

    def answer(self, candidates: Sequence[CandidateSignal]) -> tuple[bytes, int]:
        """The reply as the JSON bytes `predict(...).model_dump_json()` gives, and how many
        of its predictions are neutral; without the reply objects when the scorer can."""
        scorer = self.scorer
        if isinstance(scorer, JsonScorer):
            return scorer.predict_json(candidates), 0
        reply = scorer.predict(candidates)
        neutral = sum(p.neutral for p in reply.predictions)
        return reply.model_dump_json().encode(), neutral
