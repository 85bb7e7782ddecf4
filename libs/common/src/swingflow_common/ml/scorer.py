"""A trained model as an `MlScorer`: a batch of candidates in, one `MlPredictReply` out.

The batch is scored at once: one feature matrix, one `inplace_predict` for the
probabilities, one DMatrix for the SHAP contributions, and the top contributions of each
candidate picked with one argsort. The ml service answers `ml.predict` with it, and the
CLI or a backtest can score candidates in-process with the same object.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import (
    CandidateSignal,
    FeatureContribution,
    MlPrediction,
    MlPredictReply,
)
from swingflow_common.ml.features import feature_matrix
from swingflow_common.ml.model import ScoringModel

TOP_CONTRIBUTIONS = 5


class ModelScorer:
    """Scores candidates with `model`; stage scores inside the features use `config`."""

    def __init__(
        self, model: ScoringModel, config: StrategyConfig, top: int = TOP_CONTRIBUTIONS
    ) -> None:
        self.model = model
        self.config = config
        self.top = top

    @property
    def version(self) -> str:
        return self.model.version

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        """Calibrated probabilities and each candidate's strongest SHAP contributions."""
        if not candidates:
            return MlPredictReply(model_version=self.version, predictions=())
        x = feature_matrix(candidates, self.model.names, self.config)
        probability = np.clip(self.model.probabilities(x), 0.0, 1.0)
        shap = self.model.contributions(x)[:, :-1]
        top = np.argsort(-np.abs(shap), axis=1, kind="stable")[:, : self.top]
        names = self.model.names
        predictions = []
        for i, candidate in enumerate(candidates):
            # Built without re-validation: every value here is already a checked float.
            contributions = tuple(
                FeatureContribution.model_construct(
                    feature=names[j],
                    value=float(x[i, j]) if math.isfinite(x[i, j]) else None,
                    contribution=float(shap[i, j]),
                )
                for j in top[i]
            )
            predictions.append(
                MlPrediction.model_construct(
                    signal_id=candidate.id,
                    probability=float(probability[i]),
                    neutral=False,
                    contributions=contributions,
                )
            )
        return MlPredictReply.model_construct(
            model_version=self.version, predictions=tuple(predictions)
        )
