"""The messages that travel over NATS, typed once and shared by every service.

Each is a frozen pydantic model with a `type` discriminator and a `schema_version`.
Data are nouns (`Bar`), and every message round-trips through JSON unchanged.
Ids that must catch duplicates are deterministic (see `signal_id`), and the same id is
sent as the JetStream `Nats-Msg-Id` header so a republished message is dropped.

Defined in `messages.core` (market data, signals, portfolio, operations) and
`messages.ml` (the `ml.predict` request and reply); imported from here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from swingflow_common.messages.core import (
    MAX_PRICE,
    MAX_VOLUME,
    SCHEMA_VERSION,
    STAGE_NAMES,
    Allocation,
    Bar,
    CandidateSignal,
    ConfirmedSignal,
    DeadLetter,
    FeatureContribution,
    Fill,
    Interval,
    JobKind,
    JobProgress,
    JobStatus,
    Message,
    ModelUpdated,
    Price,
    ScanJob,
    StageName,
    StageScore,
    Symbol,
    Tick,
    Unit,
    UtcTime,
    Volume,
    WeightsUpdated,
    signal_id,
    utcnow,
)
from swingflow_common.messages.ml import (
    FeatureRows,
    MlPrediction,
    MlPredictReply,
    MlPredictRequest,
    PredictionRows,
)

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


__all__ = [
    "ALL_MESSAGES",
    "ANY_MESSAGE",
    "MAX_PRICE",
    "MAX_VOLUME",
    "SCHEMA_VERSION",
    "STAGE_NAMES",
    "Allocation",
    "AnyMessage",
    "Bar",
    "CandidateSignal",
    "ConfirmedSignal",
    "DeadLetter",
    "FeatureContribution",
    "FeatureRows",
    "Fill",
    "Interval",
    "JobKind",
    "JobProgress",
    "JobStatus",
    "Message",
    "MlPredictReply",
    "MlPredictRequest",
    "MlPrediction",
    "ModelUpdated",
    "PredictionRows",
    "Price",
    "ScanJob",
    "StageName",
    "StageScore",
    "Symbol",
    "Tick",
    "Unit",
    "UtcTime",
    "Volume",
    "WeightsUpdated",
    "decode",
    "signal_id",
    "utcnow",
]
