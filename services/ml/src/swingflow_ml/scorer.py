"""What answers `ml.predict`: a `Scorer`, held in a slot a model registry can swap.

A request holds whole candidates or their feature rows (`MlPredictRequest`); the slot
answers either form.

Any object with `predict(candidates) -> MlPredictReply` is a Scorer (the pipeline's
`MlScorer` protocol). A trained model answers through `swingflow_common.ml.scorer.
ModelScorer`, installed at start (the promoted model) and on `ml.models.updated`. With no
model the slot holds the `NeutralScorer`, whose every prediction is neutral (probability
0.5, no model version): the signals service then scores the ML stage as neutral and says
so ("no model loaded: neutral").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from swingflow_common.messages import (
    CandidateSignal,
    MlPrediction,
    MlPredictReply,
    MlPredictRequest,
    PredictionRows,
)
from swingflow_common.pipeline import MlScorer
from swingflow_common.pipeline.ml_stage import NEUTRAL_SCORE

Scorer = MlScorer


@runtime_checkable
class JsonScorer(Protocol):
    """A scorer that answers whole requests (either form) with the replies' JSON bytes,
    several requests scored together (a trained model's `ModelScorer`), every
    prediction non-neutral."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply: ...

    def predict_json_many(self, requests: Sequence[MlPredictRequest]) -> list[bytes]: ...


def neutral_reply(signal_ids: Iterable[str]) -> MlPredictReply:
    """Every signal's neutral prediction, no model version."""
    return MlPredictReply(
        model_version=None,
        predictions=tuple(
            MlPrediction(signal_id=i, probability=NEUTRAL_SCORE, neutral=True) for i in signal_ids
        ),
    )


def neutral_answer(request: MlPredictRequest) -> MlPredictReply:
    """The neutral reply to `request`, in the form its requests get."""
    ids = request.signal_ids
    if request.rows is None:
        return neutral_reply(ids)
    rows = PredictionRows(signal_ids=ids, neutral=True, probabilities=(NEUTRAL_SCORE,) * len(ids))
    return MlPredictReply(model_version=None, rows=rows)


class NeutralScorer:
    """No model loaded: every candidate gets the neutral prediction."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return neutral_reply(c.id for c in candidates)


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

    def answer_many(self, requests: Sequence[MlPredictRequest]) -> list[tuple[bytes, int]]:
        """`[answer(r) for r in requests]`, scored together when the scorer can."""
        scorer = self.scorer
        if isinstance(scorer, JsonScorer):
            return [(reply, 0) for reply in scorer.predict_json_many(requests)]
        return [self.answer(request) for request in requests]

    def answer(self, request: MlPredictRequest) -> tuple[bytes, int]:
        """The reply's JSON bytes (`reply.model_dump_json()`), and how many of its
        predictions are neutral; without the reply objects when the scorer can. A
        scorer of candidates only (neither neutral nor a `JsonScorer`) cannot read a
        request of rows: TypeError."""
        scorer = self.scorer
        if isinstance(scorer, JsonScorer):
            return scorer.predict_json_many([request])[0], 0
        if isinstance(scorer, NeutralScorer):
            return neutral_answer(request).model_dump_json().encode(), request.size
        if request.rows is not None:
            raise TypeError(f"{type(scorer).__name__} scores candidates, not feature rows")
        reply = scorer.predict(request.candidates)
        return reply.model_dump_json().encode(), sum(p.neutral for p in reply.predictions)
