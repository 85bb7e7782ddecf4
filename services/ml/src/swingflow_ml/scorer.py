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

from swingflow_common.messages import CandidateSignal, MlPrediction, MlPredictReply
from swingflow_common.pipeline import MlScorer
from swingflow_common.pipeline.ml_stage import NEUTRAL_SCORE

Scorer = MlScorer


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
