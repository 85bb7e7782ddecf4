"""The REST answers as pydantic models: what `/docs` shows and what the dashboard reads.

The NATS messages (`StageScore`, `FeatureContribution`, `Allocation`) are reused as they
are, so a REST row and a live WebSocket message of the same concept have one shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from swingflow_common.messages import Allocation, FeatureContribution, StageName, StageScore

T = TypeVar("T")
SignalStatus = Literal["candidate", "confirmed", "rejected"]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(Out):
    detail: str = Field(description="What is wrong, in words.")


class Page(Out, Generic[T]):
    items: list[T]
    total: int = Field(description="Rows matching the filters, over all pages.")
    limit: int
    offset: int


class SymbolItem(Out):
    symbol: str
    last_ts: datetime | None
    last_close: float | None
    change_pct: float | None = Field(description="Last close against the one before, in %.")
    bars: int = Field(description="Daily bars stored.")


class SymbolList(Out):
    items: list[SymbolItem]
    total: int


class SignalOut(Out):
    """One signal: a pending candidate, or a verdict with every stage score."""

    id: str
    symbol: str
    ts: datetime = Field(description="The bar's open time (UTC).")
    setup: str
    status: SignalStatus
    rejected_by: str | None = Field(description="The refusing stage, 'threshold', or null.")
    total: float | None = Field(description="Weighted total; null while still a candidate.")
    threshold: float | None
    stages: list[StageScore]
    weights: dict[str, float]
    entry: float | None
    stop: float | None
    target: float | None
    model_version: str | None
    ml_contributions: list[FeatureContribution]
    reason: str
    created_at: datetime


class OhlcvBar(Out):
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class Analysis(Out):
    symbol: str
    bars: list[OhlcvBar]
    indicators: dict[str, list[float | None]] = Field(
        description="Arrays aligned with `bars`, null while an indicator warms up."
    )
    latest: dict[str, float | None] = Field(description="Every analysis value at the last bar.")
    signals: list[SignalOut] = Field(description="The symbol's recent evaluated signals.")
    latest_evaluation: SignalOut | None


class FunnelStage(Out):
    stage: str
    passed: int
    rejected: int


class Funnel(Out):
    candidates: int = Field(description="Every signal found in the period, judged or not.")
    confirmed: int
    rejected: int
    pending: int = Field(description="Candidates not judged yet.")
    stages: list[FunnelStage] = Field(
        description="Evaluated signals flowing through the stages in order, then the threshold."
    )


class Position(Out):
    symbol: str
    quantity: float
    avg_price: float
    last_price: float
    market_value: float
    weight: float = Field(description="Market value over equity.")
    stop: float | None
    target: float | None
    unrealized_pnl: float


class Portfolio(Out):
    as_of: datetime
    cash: float
    equity: float
    positions: list[Position]


class AllocationPage(Page[Allocation]):
    pass


class SignalPage(Page[SignalOut]):
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset: as fast at any depth); "
        "null on the last page.",
    )


class WeightsOut(Out):
    weights: dict[StageName, float]
    confirm_threshold: float
    stage_minimums: dict[StageName, float]


class StageWeightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_signal: float = Field(ge=0, le=1)
    confirmation: float = Field(ge=0, le=1)
    ml_confidence: float = Field(ge=0, le=1)
    entry_timing: float = Field(ge=0, le=1)


class WeightsIn(BaseModel):
    """New integration weights (all four, summing to 1) and optionally a new threshold."""

    model_config = ConfigDict(extra="forbid")

    weights: StageWeightsIn
    confirm_threshold: float | None = Field(default=None, ge=0, le=1)


class Health(Out):
    status: Literal["ok"] = "ok"


class ReadinessChecks(Out):
    nats: bool
    database: bool


class Readiness(Out):
    status: Literal["ok", "degraded"]
    checks: ReadinessChecks
