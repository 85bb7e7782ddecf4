"""The reads and writes services need, as async functions on an `AsyncSession`.

Every write is an upsert keyed by the message's deterministic id, so a redelivered
message rewrites the same row instead of adding one. The caller owns the transaction:

    async with sessions.begin() as session:      # commits on exit, rolls back on error
        await save_allocation(session, allocation)
    await publish(js, subjects.ALLOCATIONS, allocation)   # announce only after the commit
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from swingflow_common.db.models import AllocationRow, BarRow, Base, FillRow, SignalRow, SymbolRow
from swingflow_common.messages import (
    STAGE_NAMES,
    Allocation,
    Bar,
    CandidateSignal,
    ConfirmedSignal,
    Fill,
    StageName,
    StageScore,
    utcnow,
)

SignalStatus = Literal["candidate", "confirmed", "rejected"]
# where a write runs: a session, or the connection a service holds for its hot writes
# (`db.Writer`); the functions that take one use Core statements only
Executor = AsyncSession | AsyncConnection


def _dialect(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, AsyncSession) else executor
    return bind.dialect.name


@functools.cache
def _primary_key(model: type[Base]) -> tuple[str, ...]:
    table: sa.Table = model.__table__  # type: ignore[assignment]
    return tuple(column.name for column in table.primary_key.columns)


@functools.cache
def _upsert_statement(model: type[Base], dialect: str, update: tuple[str, ...]) -> sa.Insert:
    """The upsert of `model` for `dialect`, built once: a statement is immutable, and
    building `excluded` (a proxy of every column) cost more than running a small batch.

    It returns the keys only so that SQLAlchemy runs it as one multi-row statement per
    page of 1,000 rows ("insertmanyvalues", which RETURNING turns on) rather than the
    driver's executemany: a statement is atomic on its own, so an `autocommit` session
    stores up to 1,000 rows in one commit (SQLite's executemany outside a transaction
    commits each row, ~17x slower)."""
    table: sa.Table = model.__table__  # type: ignore[assignment]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    keys = _primary_key(model)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.returning(*table.primary_key.columns)


async def _upsert(
    session: Executor,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    update: Iterable[str] = (),
) -> int:
    """Insert `rows`; on a primary-key clash update the `update` columns, or keep the row.

    The rows go as one statement, which may not touch a row twice (PostgreSQL refuses an
    ON CONFLICT DO UPDATE that meets a key twice: a bar and its correction in one batch),
    so each key keeps the row that writing them one by one would have left: the last one
    when updating, the first when keeping."""
    if not rows:
        return 0
    update = tuple(update)
    stmt = _upsert_statement(model, _dialect(session), update)
    keys = _primary_key(model)
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        if update or key not in unique:
            unique[key] = dict(row)
    await session.execute(stmt, list(unique.values()))
    return len(rows)


# -- market data -------------------------------------------------------------------------

_BAR_FIELDS = ("symbol", "interval", "ts", "open", "high", "low", "close", "volume")


async def upsert_symbols(session: Executor, symbols: Iterable[str]) -> None:
    """Make sure each symbol has a row (existing rows are left alone)."""
    now = utcnow()
    rows = [{"symbol": s, "active": True, "created_at": now} for s in sorted(set(symbols))]
    await _upsert(session, SymbolRow, rows)


async def upsert_bars(
    session: Executor, bars: Iterable[Bar], known_symbols: Container[str] = ()
) -> int:
    """Store bars (a corrected bar replaces the stored one); returns how many were given.
    Their symbols get a row first, except `known_symbols` (a caller that remembers which
    rows it made saves that statement; if one was deleted since, the insert fails on the
    foreign key: the caller retries with `known_symbols` forgotten)."""
    rows = [bar.model_dump(include={*_BAR_FIELDS}) for bar in bars]
    await upsert_symbols(session, (r["symbol"] for r in rows if r["symbol"] not in known_symbols))
    return await _upsert(session, BarRow, rows, update=("open", "high", "low", "close", "volume"))


async def latest_bars(
    session: AsyncSession, symbol: str, n: int, interval: str = "1d", before: datetime | None = None
) -> list[Bar]:
    """The last `n` stored bars of `symbol` (strictly before `before` if given), oldest first."""
    query = sa.select(BarRow).where(BarRow.symbol == symbol, BarRow.interval == interval)
    if before is not None:
        query = query.where(BarRow.ts < before)
    rows = (await session.scalars(query.order_by(BarRow.ts.desc()).limit(n))).all()
    return [Bar(**{f: getattr(row, f) for f in _BAR_FIELDS}) for row in reversed(rows)]


# -- signals ----------------------------------------------------------------------------


def _candidate_row(candidate: CandidateSignal) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "symbol": candidate.symbol,
        "ts": candidate.ts,
        "setup": candidate.setup,
        "direction": candidate.direction,
        "status": "candidate",
        "close": candidate.close,
        "atr": candidate.atr,
        "score_base_signal": candidate.base.score,
        "stages": [candidate.base.model_dump(mode="json")],
        "features": dict(candidate.features),
        "reason": candidate.base.reason,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }


async def save_candidate(session: AsyncSession, candidate: CandidateSignal) -> None:
    """Record a candidate; a candidate already stored (or already judged) is left alone."""
    await _upsert(session, SignalRow, [_candidate_row(candidate)])


class EvaluationLike(Protocol):
    """What a verdict on a candidate carries; `pipeline.Evaluation` is one, so is `Verdict`."""

    @property
    def candidate(self) -> CandidateSignal: ...
    @property
    def status(self) -> str: ...  # confirmed | rejected
    @property
    def stages(self) -> Sequence[StageScore]: ...
    @property
    def total(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def weights(self) -> Mapping[StageName, float]: ...
    @property
    def rejected_by(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def model_version(self) -> str | None: ...
    @property
    def signal(self) -> ConfirmedSignal | None: ...  # entry, stop, target, ML contributions


@dataclass(frozen=True)
class Verdict:
    """A plain `EvaluationLike`, for callers that do not hold a `pipeline.Evaluation`."""

    candidate: CandidateSignal
    status: Literal["confirmed", "rejected"]
    stages: tuple[StageScore, ...]
    total: float
    threshold: float
    weights: Mapping[StageName, float]
    rejected_by: str | None
    reason: str
    model_version: str | None = None
    signal: ConfirmedSignal | None = None


_VERDICT_COLUMNS = (
    "status", "rejected_by", "total", "threshold", "stages", "weights", "entry", "stop",
    "target", "model_version", "ml_contributions", "reason", "updated_at",
    *(f"score_{name}" for name in STAGE_NAMES),
)  # fmt: skip


def _verdict_row(verdict: EvaluationLike) -> dict[str, Any]:
    row = _candidate_row(verdict.candidate)
    signal = verdict.signal
    row.update(
        status=verdict.status,
        rejected_by=verdict.rejected_by,
        total=verdict.total,
        threshold=verdict.threshold,
        stages=[stage.model_dump(mode="json") for stage in verdict.stages],
        weights=dict(verdict.weights),
        entry=signal.entry if signal else None,
        stop=signal.stop if signal else None,
        target=signal.target if signal else None,
        model_version=signal.model_version if signal else verdict.model_version,
        ml_contributions=[c.model_dump(mode="json") for c in signal.ml_contributions]
        if signal
        else [],
        reason=verdict.reason,
    )
    scores = {stage.stage: stage.score for stage in verdict.stages}
    row.update({f"score_{name}": scores.get(name) for name in STAGE_NAMES})
    return row


async def save_evaluations(session: AsyncSession, verdicts: Iterable[EvaluationLike]) -> int:
    """Record verdicts, idempotently by signal id (the candidate row is completed)."""
    rows = [_verdict_row(v) for v in verdicts]
    return await _upsert(session, SignalRow, rows, update=_VERDICT_COLUMNS)


@functools.cache
def _first_verdict_statement(dialect: str) -> sa.Insert:
    """The verdicts' upsert that leaves a stored verdict alone: a row is written only when
    it is new or still a `candidate`, and its id is returned."""
    table: sa.Table = SignalRow.__table__  # type: ignore[assignment]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={name: stmt.excluded[name] for name in _VERDICT_COLUMNS},
        where=table.c.status == "candidate",
    ).returning(table.c.id)


async def save_first_verdicts(session: Executor, verdicts: Iterable[EvaluationLike]) -> set[str]:
    """Record verdicts whose signal has none yet (new, or stored as a `candidate`); one
    already judged keeps its verdict. Returns the ids written: the caller's check for
    verdicts stored before, in the same statement as the write."""
    rows = [_verdict_row(v) for v in verdicts]
    if not rows:
        return set()
    stmt = _first_verdict_statement(_dialect(session))
    result = await session.execute(stmt, rows)
    return set(result.scalars())


async def save_evaluation(session: AsyncSession, verdict: EvaluationLike) -> None:
    await save_evaluations(session, [verdict])


@dataclass(frozen=True)
class SignalFilter:
    status: SignalStatus | None = None
    symbol: str | None = None
    setup: str | None = None
    start: datetime | None = None  # bar time, inclusive
    end: datetime | None = None  # bar time, inclusive
    min_total: float | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.status is not None:
            clauses.append(SignalRow.status == self.status)
        if self.symbol is not None:
            clauses.append(SignalRow.symbol == self.symbol)
        if self.setup is not None:
            clauses.append(SignalRow.setup == self.setup)
        if self.start is not None:
            clauses.append(SignalRow.ts >= self.start)
        if self.end is not None:
            clauses.append(SignalRow.ts <= self.end)
        if self.min_total is not None:
            clauses.append(SignalRow.total >= self.min_total)
        return clauses


async def list_signals(
    session: AsyncSession, where: SignalFilter | None = None, limit: int = 50, offset: int = 0
) -> list[SignalRow]:
    """Signals matching `where`, newest bar first."""
    query = sa.select(SignalRow).where(*(where or SignalFilter()).where())
    query = query.order_by(SignalRow.ts.desc(), SignalRow.id).limit(limit).offset(offset)
    return list((await session.scalars(query)).all())


async def count_signals(session: AsyncSession, where: SignalFilter | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(SignalRow)
    return int(await session.scalar(query.where(*(where or SignalFilter()).where())) or 0)


async def get_signal(session: AsyncSession, signal_id: str) -> SignalRow | None:
    return await session.get(SignalRow, signal_id)


async def get_signals(session: AsyncSession, signal_ids: Iterable[str]) -> dict[str, SignalRow]:
    """The stored signals among `signal_ids`, by id (one query; absent ids are left out)."""
    ids = sorted(set(signal_ids))
    if not ids:
        return {}
    rows = await session.scalars(sa.select(SignalRow).where(SignalRow.id.in_(ids)))
    return {row.id: row for row in rows}


# -- portfolio ---------------------------------------------------------------------------


async def save_allocation(session: AsyncSession, allocation: Allocation) -> None:
    """Record an allocation once; a redelivered one is ignored."""
    row = allocation.model_dump(exclude={"type", "schema_version", "ts_event"})
    await _upsert(session, AllocationRow, [{**row, "created_at": utcnow()}])


async def get_allocation(session: AsyncSession, allocation_id: str) -> AllocationRow | None:
    return await session.get(AllocationRow, allocation_id)


async def get_allocations(
    session: AsyncSession, allocation_ids: Iterable[str]
) -> dict[str, AllocationRow]:
    """The stored allocations among `allocation_ids`, by id (one query; absent ones left out)."""
    ids = sorted(set(allocation_ids))
    if not ids:
        return {}
    rows = await session.scalars(sa.select(AllocationRow).where(AllocationRow.id.in_(ids)))
    return {row.id: row for row in rows}


async def save_fill(session: AsyncSession, fill: Fill, trade_id: str | None = None) -> None:
    """Record a fill once; a redelivered one is ignored."""
    row = fill.model_dump(exclude={"type", "schema_version", "ts_event"})
    await _upsert(session, FillRow, [{**row, "trade_id": trade_id, "created_at": utcnow()}])


async def list_allocations(
    session: AsyncSession, limit: int = 50, offset: int = 0
) -> list[AllocationRow]:
    query = sa.select(AllocationRow).order_by(AllocationRow.ts.desc(), AllocationRow.id)
    return list((await session.scalars(query.limit(limit).offset(offset))).all())
