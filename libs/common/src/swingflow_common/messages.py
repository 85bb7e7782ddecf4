"""The messages that travel over NATS, typed once and shared by every service.

Each is a frozen pydantic model with a `type` discriminator and a `schema_version`.
Data are nouns (`Bar`), and every message round-trips through JSON unchanged.
Ids that must catch duplicates are deterministic (see `signal_id`), and the same id is
sent as the JetStream `Nats-Msg-Id` header so a republished message is dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

SCHEMA_VERSION: Literal[1] = 1
MAX_PRICE = 1e7  # above any listed stock; larger numbers are data errors, not prices
MAX_VOLUME = 1e13

StageName = Literal["base_signal", "confirmation", "ml_confidence", "entry_timing"]
STAGE_NAMES: tuple[StageName, ...] = (
    "base_signal",
    "confirmation",
    "ml_confidence",
    "entry_timing",
)
Interval = Literal["1m", "5m", "15m", "30m", "1h", "1d", "1w"]


# The checks run once per field of every decoded message (1,000 candidates a request,
# every bar a scanner reads), so they are pydantic-core's own (Rust) where it has one:
# `allow_inf_nan=False` instead of a Python finiteness check (2 us a bar saved). The
# symbol's pattern stays a Python check, compiled once, for its plain-words error (the
# Rust `pattern` would answer with the regex; it would save 0.1 us a symbol).
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._\-]{0,15}")


def _symbol(value: str) -> str:
    if _SYMBOL.fullmatch(value) is None:
        raise ValueError(
            f"symbol {value!r} must be 1-16 upper-case letters, digits, '.', '_' or '-'"
        )
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Symbol = Annotated[str, AfterValidator(_symbol)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
Price = Annotated[float, Field(gt=0, le=MAX_PRICE, allow_inf_nan=False)]
Volume = Annotated[float, Field(ge=0, le=MAX_VOLUME, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every message: frozen, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION


class Bar(Message):
    """One OHLCV bar. `ts` is the bar's open time in UTC."""

    type: Literal["bar"] = "bar"
    symbol: Symbol
    interval: Interval = "1d"
    ts: UtcTime
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Volume

    @model_validator(mode="after")
    def _check_range(self) -> Bar:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        if self.high < max(self.open, self.close) or self.low > min(self.open, self.close):
            raise ValueError(
                f"open {self.open} and close {self.close} must lie within "
                f"low {self.low} and high {self.high}"
            )
        return self


class Tick(Message):
    """One trade: price, size, time."""

    type: Literal["tick"] = "tick"
    symbol: Symbol
    ts: UtcTime
    price: Price
    size: Annotated[float, Field(gt=0, le=MAX_VOLUME, allow_inf_nan=False)]


class StageScore(Message):
    """One stage's verdict on a setup: a score in [0, 1], its minimum, and why."""

    type: Literal["stage_score"] = "stage_score"
    stage: StageName
    score: Unit
    minimum: Unit = 0.0
    passed: bool
    neutral: bool = False  # True when the stage had nothing to say (e.g. no ML model loaded)
    reason: str
    details: dict[str, float] = Field(default_factory=dict)


class FeatureContribution(Message):
    """One feature's push on the ML score (a SHAP value, in log-odds)."""

    type: Literal["feature_contribution"] = "feature_contribution"
    feature: str
    value: float | None
    contribution: float


def signal_id(symbol: str, ts: datetime, setup: str) -> str:
    """The deterministic id of a signal: the same bar and setup always give the same id."""
    return f"{symbol}-{ts.astimezone(UTC):%Y%m%d}-{setup}"


class CandidateSignal(Message):
    """A setup found by the scanner on a closed bar, with the analysis it was found on.

    `features` is the snapshot of every analysis value at the bar (None while an indicator
    is still warming up), so later stages need no bar history of their own.
    """

    type: Literal["candidate_signal"] = "candidate_signal"
    id: str
    symbol: Symbol
    ts: UtcTime
    setup: str
    direction: Literal["long"] = "long"
    close: Price
    atr: Annotated[float, Field(gt=0)]
    base: StageScore
    features: dict[str, float | None]
    ts_event: UtcTime = Field(default_factory=utcnow)


class ConfirmedSignal(Message):
    """A candidate that passed every stage and the integration threshold."""

    type: Literal["confirmed_signal"] = "confirmed_signal"
    id: str
    symbol: Symbol
    ts: UtcTime
    setup: str
    direction: Literal["long"] = "long"
    entry: Price
    stop: Price
    target: Price
    stages: tuple[StageScore, ...]
    weights: dict[StageName, float]
    total: Unit
    threshold: Unit
    model_version: str | None = None
    ml_contributions: tuple[FeatureContribution, ...] = ()
    reason: str
    ts_event: UtcTime = Field(default_factory=utcnow)


class Allocation(Message):
    """The portfolio's decision to buy a confirmed signal, sized by risk."""

    type: Literal["allocation"] = "allocation"
    id: str
    signal_id: str
    symbol: Symbol
    ts: UtcTime
    side: Literal["buy", "sell"] = "buy"
    quantity: Annotated[float, Field(gt=0)]
    price: Price
    stop: Price
    target: Price
    risk_amount: Annotated[float, Field(ge=0)]
    weight: Unit
    cash_after: float
    reason: str
    ts_event: UtcTime = Field(default_factory=utcnow)


class Fill(Message):
    """A paper-trading fill, with its costs."""

    type: Literal["fill"] = "fill"
    id: str
    allocation_id: str
    symbol: Symbol
    ts: UtcTime
    side: Literal["buy", "sell"]
    quantity: Annotated[float, Field(gt=0)]
    price: Price
    commission: Annotated[float, Field(ge=0)]
    slippage: Annotated[float, Field(ge=0)]
    reason: str = ""
    ts_event: UtcTime = Field(default_factory=utcnow)


class ModelUpdated(Message):
    type: Literal["model_updated"] = "model_updated"
    version: str
    path: str
    sha256: str
    metrics: dict[str, float] = Field(default_factory=dict)
    ts_event: UtcTime = Field(default_factory=utcnow)


class WeightsUpdated(Message):
    type: Literal["weights_updated"] = "weights_updated"
    weights: dict[StageName, float]
    confirm_threshold: Unit | None = None
    source: str = "api"
    ts_event: UtcTime = Field(default_factory=utcnow)


class ScanJob(Message):
    """A batch of symbols for one scanner replica to scan."""

    type: Literal["scan_job"] = "scan_job"
    job_id: str
    symbols: tuple[Symbol, ...]
    asof: UtcTime | None = None


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


class DeadLetter(Message):
    """A rejected message, kept with the reason it was rejected."""

    type: Literal["dead_letter"] = "dead_letter"
    service: str
    subject: str
    reason: str
    payload: str
    ts_event: UtcTime = Field(default_factory=utcnow)


JobKind = Literal["backtest", "train", "optimize"]
JobStatus = Literal["queued", "running", "done", "failed"]


class JobProgress(Message):
    """A background job's progress (a backtest, a model training, an optimization), sent
    by the gateway on the WebSocket channel `jobs`: `stage` and `done` of `total` as the
    domain function reports them; `result_id` names what a finished job made (a backtest
    run id, a model version), `error` why a failed one failed."""

    type: Literal["job_progress"] = "job_progress"
    job_id: str
    kind: JobKind
    stage: str = ""
    done: Annotated[int, Field(ge=0)] = 0
    total: Annotated[int, Field(ge=0)] = 0
    status: JobStatus
    result_id: str | None = None
    error: str | None = None
    ts_event: UtcTime = Field(default_factory=utcnow)


AnyMessage = Annotated[
    Bar
    | Tick
    | CandidateSignal
    | ConfirmedSignal
    | Allocation
    | Fill
    | ModelUpdated
    | WeightsUpdated
    | ScanJob
    | MlPredictRequest
    | MlPredictReply
    | DeadLetter
    | JobProgress,
    Field(discriminator="type"),
]
ANY_MESSAGE: TypeAdapter[Any] = TypeAdapter(AnyMessage)

ALL_MESSAGES: tuple[type[Message], ...] = (
    Bar,
    Tick,
    StageScore,
    FeatureContribution,
    CandidateSignal,
    ConfirmedSignal,
    Allocation,
    Fill,
    ModelUpdated,
    WeightsUpdated,
    ScanJob,
    FeatureRows,
    MlPredictRequest,
    MlPrediction,
    PredictionRows,
    MlPredictReply,
    DeadLetter,
    JobProgress,
)


def decode(raw: bytes | str) -> Message:
    """Parse any message by its `type`; raises pydantic.ValidationError with the reason."""
    result: Message = ANY_MESSAGE.validate_json(raw)
    return result
