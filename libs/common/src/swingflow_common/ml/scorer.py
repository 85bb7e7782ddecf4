"""A trained model as an `MlScorer`: a batch of candidates in, one `MlPredictReply` out.

The batch is scored at once: one feature matrix (built column by column, the stage scores
by the stages' row functions over the batch), one `inplace_predict` for the probabilities
(one thread: a service shares its cores), one DMatrix for the contributions, and the top
contributions of each candidate picked with one argsort.

The contributions answered are Saabas path attributions (XGBoost's `approx_contribs`), not
exact SHAP values: about 10x cheaper, and like SHAP they add up, with the bias, to the
calibrated log-odds of the probability. On the bench's 1,000 real candidates the largest
one is the same feature as exact SHAP's for about two in three candidates, and four of
the five largest are the same features on average. Training's feature importance stays
exact SHAP. The ml service answers `ml.predict` with it (`predict_json`: the reply's
JSON bytes, built without the reply objects), and the CLI or a backtest can score
candidates in-process with the same object (`predict`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import TypeAdapter
from pydantic_core import to_json

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import SCHEMA_VERSION, CandidateSignal, MlPredictReply
from swingflow_common.ml.features import feature_matrix
from swingflow_common.ml.model import FloatArray as FloatMatrix
from swingflow_common.ml.model import ScoringModel

TOP_CONTRIBUTIONS = 5
REPLY: TypeAdapter[MlPredictReply] = TypeAdapter(MlPredictReply)


def top_features(contrib: FloatMatrix, k: int) -> npt.NDArray[np.intp]:
    """Per row, the columns of the `k` largest |contributions|, largest first (ties: the
    lower column first)."""
    out: npt.NDArray[np.intp] = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]
    return out


class Scores(NamedTuple):
    """A batch's scores, row for row: features, probabilities, contributions (without
    the bias) and each row's top contribution columns."""

    x: FloatMatrix
    probability: FloatMatrix
    contrib: FloatMatrix
    top: npt.NDArray[np.intp]

    def rows(self, rows: slice) -> Scores:
        return Scores(self.x[rows], self.probability[rows], self.contrib[rows], self.top[rows])


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
        """Calibrated probabilities and each candidate's strongest contributions."""
        if not candidates:
            return MlPredictReply(model_version=self.version, predictions=())
        return self.reply(candidates, self.scores(candidates))

    def predict_json(self, candidates: Sequence[CandidateSignal]) -> bytes:
        """`predict(candidates).model_dump_json().encode()`, the same bytes, without the
        reply objects: what the ml service answers with.

        The reply's values are plain Python values from validated candidates and the
        model, so they are serialized as they are, by pydantic-core's `to_json` (the
        serializer `model_dump_json` uses). The checks validating the reply would make
        are kept where they can fail: a probability or contribution that is not finite
        takes the validated path, which then answers (or refuses) exactly as before."""
        if not candidates:
            return self.predict(candidates).model_dump_json().encode()
        return self._json(candidates, self.scores(candidates))

    def predict_json_many(self, batches: Sequence[Sequence[CandidateSignal]]) -> list[bytes]:
        """`[predict_json(b) for b in batches]`, the same bytes, scored as one batch: a
        candidate's scores depend on it alone (its own features, one tree walk per row),
        and a request's fixed costs (the stage functions' array operations, XGBoost's
        calls) are paid once for all. A batch that fails (a non-finite score) raises."""
        flat = [candidate for batch in batches for candidate in batch]
        if not flat:
            return [self.predict_json(batch) for batch in batches]
        scores = self.scores(flat)
        out, start = [], 0
        for batch in batches:
            rows = slice(start, start + len(batch))
            start = rows.stop
            if not batch:
                out.append(self.predict_json(batch))
                continue
            out.append(self._json(batch, scores.rows(rows)))
        return out

    def _json(
        self,
        candidates: Sequence[CandidateSignal],
        scores: Scores,
    ) -> bytes:
        content = self.reply_content(candidates, scores)
        if not (np.isfinite(scores.probability).all() and np.isfinite(scores.contrib).all()):
            return REPLY.validate_python(content).model_dump_json().encode()
        return to_json(content)

    def scores(self, candidates: Sequence[CandidateSignal]) -> Scores:
        """The features, probabilities, contributions and each row's top columns."""
        x = feature_matrix(candidates, self.model.names, self.config)
        probability = np.clip(self.model.probabilities(x), 0.0, 1.0)
        contrib = self.model.contributions(x, exact=False)[:, :-1]
        return Scores(x, probability, contrib, top_features(contrib, self.top))

    def reply(
        self,
        candidates: Sequence[CandidateSignal],
        scores: Scores,
    ) -> MlPredictReply:
        """The reply objects (timed apart by the benchmark)."""
        # One validation of plain dicts in pydantic's core: cheaper than building the
        # 6 objects per candidate in Python with model_construct, and checked.
        return REPLY.validate_python(self.reply_content(candidates, scores))

    def reply_content(
        self,
        candidates: Sequence[CandidateSignal],
        scores: Scores,
    ) -> dict[str, Any]:
        """The reply as plain Python values, every field in the messages' order (so that
        `to_json` of it is `model_dump_json` of the reply)."""
        names = self.model.names
        x, probability, contrib, top = scores
        # Python floats for the whole batch at once, not one numpy scalar at a time
        values = np.take_along_axis(x, top, axis=1).tolist()
        pushes = np.take_along_axis(contrib, top, axis=1).tolist()
        features = [[names[j] for j in row] for row in top.tolist()]
        version = SCHEMA_VERSION
        return {
            "schema_version": version, "type": "ml_predict_reply",
            "model_version": self.version,
            "predictions": [
                {"schema_version": version, "type": "ml_prediction", "signal_id": candidate.id,
                 "probability": p, "neutral": False,
                 "contributions": [
                     {"schema_version": version, "type": "feature_contribution", "feature": f,
                      "value": v if math.isfinite(v) else None, "contribution": c}
                     for f, v, c in zip(feature_row, value_row, push_row, strict=True)
                 ]}
                for candidate, p, feature_row, value_row, push_row in zip(
                    candidates, probability.tolist(), features, values, pushes, strict=True
                )
            ],
        }  # fmt: skip
