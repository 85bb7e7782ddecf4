"""The messages of market data, signals, the portfolio and operations (the ML request and
reply are in `messages.ml`); import them from `swingflow_common.messages`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
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
