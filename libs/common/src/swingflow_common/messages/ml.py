"""The `ml.predict` request and reply (see `MlPredictRequest`); import them from
`swingflow_common.messages`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter, model_validator

from swingflow_common.messages.core import (
    CandidateSignal,
    FeatureContribution,
    Message,
    Unit,
)


class FeatureRows(Message):
    """Candidates as the model reads them: one row of feature values per signal, the
    feature names sent once. `values` is the (len(signal_ids), len(names)) matrix, row
    after row, as little-endian float64, base64url-encoded in JSON (standard base64 is
    accepted too); NaN means not known.

    Why not JSON numbers: 1,000 candidates carry about 77,000 values, and parsing them
    from decimal text costs the ml service 8-12 ms, most of its 20 ms budget; the same
    values in base64 decode in under 1 ms, exactly (float64, no rounding)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    type: Literal["feature_rows"] = "feature_rows"
    signal_ids: tuple[str, ...]
    names: tuple[str, ...]
    values: bytes

    @model_validator(mode="after")
    def _matrix_shape(self) -> FeatureRows:
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must not repeat")
        need = 8 * len(self.signal_ids) * len(self.names)
        if len(self.values) != need:
            raise ValueError(
                f"values hold {len(self.values)} bytes; {len(self.signal_ids)} rows of "
                f"{len(self.names)} float64 need {need}"
            )
        return self


class MlPredictRequest(Message):
    """Candidates to score, in one of two forms: `candidates` (whole CandidateSignals; the
    ml service computes their features) or `rows` (their features, computed by the
    sender with `swingflow_common.ml.features`: what the signals service sends). A
    feature the model reads that `rows` lacks counts as not known (NaN), as a value
    missing from a candidate's snapshot does."""

    type: Literal["ml_predict_request"] = "ml_predict_request"
    candidates: tuple[CandidateSignal, ...] = ()
    rows: FeatureRows | None = None

    @model_validator(mode="after")
    def _one_form(self) -> MlPredictRequest:
        if self.candidates and self.rows is not None:
            raise ValueError("send candidates or rows, not both")
        if self.rows is None and "candidates" not in self.model_fields_set:
            raise ValueError("candidates or rows: field required")
        return self

    @property
    def signal_ids(self) -> tuple[str, ...]:
        """The ids of the signals to score, in order."""
        if self.rows is not None:
            return self.rows.signal_ids
        return tuple(c.id for c in self.candidates)

    @property
    def size(self) -> int:
        """How many signals the request asks to score."""
        return len(self.rows.signal_ids) if self.rows is not None else len(self.candidates)


class MlPrediction(Message):
    type: Literal["ml_prediction"] = "ml_prediction"
    signal_id: str
    probability: Unit
    neutral: bool
    contributions: tuple[FeatureContribution, ...] = ()


class PredictionRows(Message):
    """The answer to a request of `rows`, in columns: each signal's probability and its
    strongest contributions, strongest first: `top` holds their indices into `features`,
    `values` the features' values (None: not known) and `contributions` their pushes in
    calibrated log-odds. `neutral`: no model answered (every probability 0.5, no
    contributions). The same predictions as `MlPrediction`s, in a tenth of the bytes."""

    type: Literal["prediction_rows"] = "prediction_rows"
    signal_ids: tuple[str, ...]
    neutral: bool
    probabilities: tuple[Unit, ...]
    features: tuple[str, ...] = ()
    top: tuple[tuple[Annotated[int, Field(ge=0)], ...], ...] = ()
    values: tuple[tuple[float | None, ...], ...] = ()
    contributions: tuple[tuple[float, ...], ...] = ()

    @model_validator(mode="after")
    def _aligned(self) -> PredictionRows:
        n = len(self.signal_ids)
        if len(self.probabilities) != n:
            raise ValueError(f"{len(self.probabilities)} probabilities for {n} signals")
        lists = (self.top, self.values, self.contributions)
        if any(lists) or not self.neutral:
            if any(len(rows) != n for rows in lists):
                raise ValueError(f"top, values and contributions need a row per signal ({n})")
            for top, values, pushes in zip(*lists, strict=True):
                if not len(top) == len(values) == len(pushes):
                    raise ValueError("a signal's top, values and contributions differ in length")
                if top and max(top) >= len(self.features):
                    raise ValueError(f"a top index beyond the {len(self.features)} features")
        return self

    def predictions(self) -> tuple[MlPrediction, ...]:
        """The same predictions as `MlPrediction` objects (validated as plain values in
        one call: about 5x faster than building each object in Python)."""
        names = self.features
        rows = zip(
            self.signal_ids, self.probabilities,
            self.top or ((),) * len(self.signal_ids),
            self.values or ((),) * len(self.signal_ids),
            self.contributions or ((),) * len(self.signal_ids),
            strict=True,
        )  # fmt: skip
        return _PREDICTIONS.validate_python([
            {"signal_id": i, "probability": p, "neutral": self.neutral, "contributions": [
                {"feature": names[j], "value": v, "contribution": c}
                for j, v, c in zip(top, values, pushes, strict=True)
            ]}
            for i, p, top, values, pushes in rows
        ])  # fmt: skip


_PREDICTIONS: TypeAdapter[tuple[MlPrediction, ...]] = TypeAdapter(tuple[MlPrediction, ...])


class MlPredictReply(Message):
    """The answer to an `MlPredictRequest`: `predictions` for a request of candidates,
    `rows` for a request of rows (the same predictions, in columns)."""

    type: Literal["ml_predict_reply"] = "ml_predict_reply"
    model_version: str | None
    predictions: tuple[MlPrediction, ...] = ()
    rows: PredictionRows | None = None

    @model_validator(mode="after")
    def _one_form(self) -> MlPredictReply:
        if self.predictions and self.rows is not None:
            raise ValueError("predictions or rows, not both")
        return self

    def all_predictions(self) -> tuple[MlPrediction, ...]:
        """Every prediction, whichever form the reply has."""
        return self.rows.predictions() if self.rows is not None else self.predictions
