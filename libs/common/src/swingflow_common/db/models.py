"""The tables, as SQLAlchemy 2 typed declarative models.

Portable across SQLite (the embedded default) and PostgreSQL (production, tests):
- times are `UtcDateTime`: timezone-aware in, timezone-aware (UTC) out, on both engines
  (SQLite has no time zones, so the type attaches UTC on the way out);
- prices, quantities and money are `Float` (double precision) everywhere, the same float64
  the analysis and the messages use; nothing here needs decimal cents;
- structured values are `sa.JSON`.

Class names end in `Row` so they never shadow the messages of the same concept (`Bar`).
Primary keys are the deterministic ids of the messages where there is one, which is what
makes every write idempotent: a redelivered message upserts the same row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from swingflow_common.messages import utcnow


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; naive datetimes are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDict = dict[str, Any]
Id = sa.String(160)
SymbolCol = sa.String(16)
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UtcDateTime(),
        float: sa.Float(),
        JsonDict: sa.JSON(),
        list[str]: sa.JSON(),
        list[JsonDict]: sa.JSON(),
    }
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SymbolRow(Timestamped, Base):
    __tablename__ = "symbols"
    symbol: Mapped[str] = mapped_column(SymbolCol, primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)


class BarRow(Base):
    __tablename__ = "bars"
    symbol: Mapped[str] = mapped_column(
        SymbolCol, sa.ForeignKey("symbols.symbol"), primary_key=True
    )
    interval: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[float]
    high: Mapped[float]
    low: Mapped[float]
    close: Mapped[float]
    volume: Mapped[float]


class SignalRow(Timestamped, Base):
    """A candidate, then its verdict: one row per signal id, status moves forward only."""

    __tablename__ = "signals"
    __table_args__ = (
        sa.Index(None, "symbol", "ts", "id"),  # filtered pages in index order (0005)
        sa.Index(None, "status", "ts", "id"),
        sa.Index(None, "ts", "id"),  # newest-first pages (migration 0003)
        sa.Index(None, "total"),  # counts under min_score (0005)
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    symbol: Mapped[str] = mapped_column(SymbolCol)
    ts: Mapped[datetime]
    setup: Mapped[str] = mapped_column(sa.String(64))
    direction: Mapped[str] = mapped_column(sa.String(8), default="long")
    status: Mapped[str] = mapped_column(sa.String(16))  # candidate | confirmed | rejected
    rejected_by: Mapped[str | None] = mapped_column(sa.String(32))
    total: Mapped[float | None]
    threshold: Mapped[float | None]
    score_base_signal: Mapped[float | None]
    score_confirmation: Mapped[float | None]
    score_ml_confidence: Mapped[float | None]
    score_entry_timing: Mapped[float | None]
    stages: Mapped[list[JsonDict]] = mapped_column(default=list)  # StageScore dumps
    weights: Mapped[JsonDict | None]
    close: Mapped[float]
    atr: Mapped[float]
    entry: Mapped[float | None]
    stop: Mapped[float | None]
    target: Mapped[float | None]
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    ml_contributions: Mapped[list[JsonDict]] = mapped_column(default=list)
    features: Mapped[JsonDict] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AllocationRow(Timestamped, Base):
    __tablename__ = "allocations"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    signal_id: Mapped[str] = mapped_column(Id, index=True)
    symbol: Mapped[str] = mapped_column(SymbolCol)
    ts: Mapped[datetime] = mapped_column(index=True)
    side: Mapped[str] = mapped_column(sa.String(4))
    quantity: Mapped[float]
    price: Mapped[float]
    stop: Mapped[float]
    target: Mapped[float]
    risk_amount: Mapped[float]
    weight: Mapped[float]
    cash_after: Mapped[float]
    reason: Mapped[str] = mapped_column(sa.Text, default="")


class FillRow(Timestamped, Base):
    __tablename__ = "fills"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    allocation_id: Mapped[str] = mapped_column(Id, index=True)
    trade_id: Mapped[str | None] = mapped_column(Id, index=True)
    symbol: Mapped[str] = mapped_column(SymbolCol)
    ts: Mapped[datetime] = mapped_column(index=True)
    side: Mapped[str] = mapped_column(sa.String(4))
    quantity: Mapped[float]
    price: Mapped[float]
    commission: Mapped[float]
    slippage: Mapped[float]
    reason: Mapped[str] = mapped_column(sa.Text, default="")


class TradeRow(Timestamped, Base):
    """A paper trade from entry fill to exit fill."""

    __tablename__ = "trades"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    signal_id: Mapped[str | None] = mapped_column(Id, index=True)
    symbol: Mapped[str] = mapped_column(SymbolCol, index=True)
    setup: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(8))  # open | closed
    quantity: Mapped[float]
    entry_ts: Mapped[datetime]
    entry_price: Mapped[float]
    stop: Mapped[float | None]
    target: Mapped[float | None]
    exit_ts: Mapped[datetime | None]
    exit_price: Mapped[float | None]
    exit_reason: Mapped[str | None] = mapped_column(sa.String(32))
    pnl: Mapped[float | None]
    return_pct: Mapped[float | None]
    costs: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PositionRow(Base):
    """The paper portfolio's open position in one symbol."""

    __tablename__ = "positions"
    symbol: Mapped[str] = mapped_column(SymbolCol, primary_key=True)
    quantity: Mapped[float]
    avg_price: Mapped[float]
    last_price: Mapped[float | None]
    stop: Mapped[float | None]
    target: Mapped[float | None]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PortfolioBookRow(Base):
    """The paper book as one row: its state (cash, positions, pending entries) as JSON.

    Every change to the book starts by updating this row (`version + 1`), which locks it
    (a row lock on PostgreSQL, the write lock on SQLite) until commit: writers from any
    number of portfolio replicas are serialized and none loses another's update.
    """

    __tablename__ = "portfolio_book"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cash: Mapped[float]
    equity: Mapped[float]
    state: Mapped[JsonDict]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PortfolioSnapshotRow(Base):
    __tablename__ = "portfolio_snapshots"
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    cash: Mapped[float]
    equity: Mapped[float]
    positions_value: Mapped[float]
    drawdown: Mapped[float] = mapped_column(default=0.0)
    positions: Mapped[list[JsonDict]] = mapped_column(default=list)


class PerformanceMetricRow(Base):
    """One named figure (sharpe, max_drawdown, win_rate...) of one scope at one time."""

    __tablename__ = "performance_metrics"
    __table_args__ = (sa.UniqueConstraint("scope", "as_of", "name"),)
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(sa.String(64))  # "paper" or "backtest:<run id>"
    as_of: Mapped[datetime]
    name: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[float | None]


class MlModelRow(Timestamped, Base):
    __tablename__ = "ml_models"
    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(500))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    metrics: Mapped[JsonDict] = mapped_column(default=dict)
    features: Mapped[list[str]] = mapped_column(default=list)
    train_start: Mapped[datetime | None]
    train_end: Mapped[datetime | None]
    promoted: Mapped[bool] = mapped_column(default=False)


class BacktestRunRow(Timestamped, Base):
    """One `BacktestResult` without its trades; nested parts (equity curve, breakdowns,
    walk-forward windows) are JSON, read whole with the run (migration 0004)."""

    __tablename__ = "backtest_runs"
    __table_args__ = (sa.Index(None, "created_at", "id"),)  # newest-first pages
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(200))
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    symbols: Mapped[list[str]] = mapped_column(default=list)
    config: Mapped[JsonDict] = mapped_column(default=dict)
    metrics: Mapped[JsonDict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="done")
    mode: Mapped[str] = mapped_column(sa.String(16), default="pipeline")
    initial_cash: Mapped[float] = mapped_column(default=0.0)
    trade_count: Mapped[int] = mapped_column(default=0)
    equity: Mapped[list[JsonDict]] = mapped_column(default=list)  # EquityPoint dumps
    by_symbol: Mapped[JsonDict] = mapped_column(default=dict)
    by_setup: Mapped[JsonDict] = mapped_column(default=dict)
    by_exit_reason: Mapped[JsonDict] = mapped_column(default=dict)
    monthly: Mapped[JsonDict] = mapped_column(default=dict)
    walk_forward: Mapped[list[JsonDict]] = mapped_column(default=list)  # WindowResult dumps
    candidates: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[JsonDict] = mapped_column(default=dict)


class BacktestTradeRow(Base):
    __tablename__ = "backtest_trades"
    run_id: Mapped[str] = mapped_column(
        Id, sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    signal_id: Mapped[str | None] = mapped_column(Id)
    symbol: Mapped[str] = mapped_column(SymbolCol)
    setup: Mapped[str | None] = mapped_column(sa.String(64))
    quantity: Mapped[float]
    entry_ts: Mapped[datetime]
    entry_price: Mapped[float]
    exit_ts: Mapped[datetime | None]
    exit_price: Mapped[float | None]
    exit_reason: Mapped[str | None] = mapped_column(sa.String(32))
    pnl: Mapped[float | None]
    return_pct: Mapped[float | None]
    bars_held: Mapped[int | None]
    total: Mapped[float | None]
    features: Mapped[JsonDict] = mapped_column(default=dict)
    signal_ts: Mapped[datetime | None]
    stop: Mapped[float | None]
    target: Mapped[float | None]
    fees: Mapped[float] = mapped_column(default=0.0)
    slippage: Mapped[float] = mapped_column(default=0.0)
    r_multiple: Mapped[float | None]
    score_base_signal: Mapped[float | None]
    score_confirmation: Mapped[float | None]
    score_ml_confidence: Mapped[float | None]
    score_entry_timing: Mapped[float | None]
