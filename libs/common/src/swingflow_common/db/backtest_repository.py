"""Stored backtest runs: save a `BacktestResult`, list runs newest first, read one back whole.

A run is one `backtest_runs` row (its nested parts as JSON) and one `backtest_trades` row
per trade, so the API can page a run list without reading any trade. Numbers go through
the result's own JSON encoding, so a non-finite metric is stored as null, exactly as the
JSON export writes it; `get_run` returns a result equal to that export read back.

The caller owns the transaction, as in `repository`:

    async with sessions.begin() as session:
        await save_run(session, result)
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from swingflow_common.backtest.result import BacktestResult, BacktestTrade, Metrics, Mode
from swingflow_common.db.models import BacktestRunRow, BacktestTradeRow

_STAGES = ("base_signal", "confirmation", "ml_confidence", "entry_timing")
_RUN_PARTS = (
    "metrics", "equity", "by_symbol", "by_setup", "by_exit_reason", "monthly", "walk_forward",
    "rejected", "config",
)  # fmt: skip
_CHUNK = 1_000  # trades per INSERT statement


class BacktestRunSummary(BaseModel):
    """A run at a glance: what it ran on and its headline metrics, without trades or curve."""

    model_config = ConfigDict(frozen=True)

    id: str
    mode: Mode
    dataset: str
    symbols: tuple[str, ...]
    start: date
    end: date
    created_at: datetime
    initial_cash: float
    trade_count: int
    walk_forward_windows: int
    metrics: Metrics


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _day(value: datetime | None) -> date:
    if value is None:
        raise ValueError("a stored backtest run has no start or end")
    return value.date()


def _trade_row(run_id: str, trade: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in trade.items() if k not in _STAGES}
    row.update({f"score_{stage}": trade[stage] for stage in _STAGES})
    for name in ("signal_ts", "entry_ts", "exit_ts"):
        row[name] = datetime.fromisoformat(row[name])
    return {**row, "run_id": run_id, "features": {}}


async def save_run(session: AsyncSession, result: BacktestResult) -> None:
    """Store `result` (a run saved again under the same id replaces the stored one)."""
    data = json.loads(result.model_dump_json())
    await session.execute(sa.delete(BacktestRunRow).where(BacktestRunRow.id == result.id))
    await session.execute(sa.delete(BacktestTradeRow).where(BacktestTradeRow.run_id == result.id))
    session.add(
        BacktestRunRow(
            id=result.id,
            dataset=result.dataset,
            start=_midnight(result.start),
            end=_midnight(result.end),
            symbols=list(result.symbols),
            status="done",
            mode=result.mode,
            initial_cash=result.initial_cash,
            trade_count=len(result.trades),
            candidates=result.candidates,
            confirmed=result.confirmed,
            created_at=result.created_at,
            **{part: data[part] for part in _RUN_PARTS},
        )
    )
    await session.flush()
    rows = [_trade_row(result.id, trade) for trade in data["trades"]]
    for first in range(0, len(rows), _CHUNK):
        await session.execute(sa.insert(BacktestTradeRow), rows[first : first + _CHUNK])


def _summary(row: BacktestRunRow) -> BacktestRunSummary:
    return BacktestRunSummary(
        id=row.id,
        mode=row.mode,
        dataset=row.dataset,
        symbols=tuple(row.symbols),
        start=_day(row.start),
        end=_day(row.end),
        created_at=row.created_at,
        initial_cash=row.initial_cash,
        trade_count=row.trade_count,
        walk_forward_windows=len(row.walk_forward),
        metrics=row.metrics,
    )


async def list_runs(
    session: AsyncSession, limit: int = 50, offset: int = 0
) -> list[BacktestRunSummary]:
    """Stored runs, newest first."""
    query = (
        sa.select(BacktestRunRow)
        .order_by(BacktestRunRow.created_at.desc(), BacktestRunRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_summary(row) for row in (await session.scalars(query)).all()]


async def count_runs(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(BacktestRunRow)) or 0)


async def run_exists(session: AsyncSession, run_id: str) -> bool:
    query = sa.select(BacktestRunRow.id).where(BacktestRunRow.id == run_id)
    return (await session.scalar(query)) is not None


def _trade(row: BacktestTradeRow) -> BacktestTrade:
    return BacktestTrade(
        seq=row.seq,
        symbol=row.symbol,
        setup=row.setup or "",
        signal_id=row.signal_id,
        signal_ts=row.signal_ts or row.entry_ts,
        entry_ts=row.entry_ts,
        entry_price=row.entry_price,
        exit_ts=row.exit_ts,
        exit_price=row.exit_price,
        exit_reason=row.exit_reason,
        quantity=row.quantity,
        stop=row.stop,
        target=row.target,
        fees=row.fees,
        slippage=row.slippage,
        pnl=row.pnl,
        return_pct=row.return_pct,
        r_multiple=row.r_multiple,
        bars_held=row.bars_held,
        base_signal=row.score_base_signal,
        confirmation=row.score_confirmation,
        ml_confidence=row.score_ml_confidence,
        entry_timing=row.score_entry_timing,
        total=row.total,
    )


async def get_trades(session: AsyncSession, run_id: str) -> list[BacktestTrade]:
    """A run's trades in the order the engine closed them (empty for an unknown run)."""
    query = (
        sa.select(BacktestTradeRow)
        .where(BacktestTradeRow.run_id == run_id)
        .order_by(BacktestTradeRow.seq)
    )
    return [_trade(row) for row in (await session.scalars(query)).all()]


async def get_run(session: AsyncSession, run_id: str) -> BacktestResult | None:
    """The stored run whole (trades and equity curve included), or None."""
    row = await session.get(BacktestRunRow, run_id)
    if row is None:
        return None
    return BacktestResult.model_validate(
        {
            "id": row.id,
            "mode": row.mode,
            "dataset": row.dataset,
            "symbols": row.symbols,
            "start": _day(row.start),
            "end": _day(row.end),
            "created_at": row.created_at,
            "initial_cash": row.initial_cash,
            "trades": await get_trades(session, run_id),
            "candidates": row.candidates,
            "confirmed": row.confirmed,
            **{part: getattr(row, part) for part in _RUN_PARTS},
        }
    )


async def delete_run(session: AsyncSession, run_id: str) -> bool:
    """Remove a run and its trades; False when there was none."""
    await session.execute(sa.delete(BacktestTradeRow).where(BacktestTradeRow.run_id == run_id))
    deleted = await session.execute(sa.delete(BacktestRunRow).where(BacktestRunRow.id == run_id))
    return bool(deleted.rowcount)  # type: ignore[attr-defined]
