"""`GET /api/portfolio` (cash, equity, positions marked to market) and `GET /api/allocations`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from swingflow_common.config import ConfigError, load_config
from swingflow_common.db import queries, repository
from swingflow_common.messages import utcnow
from swingflow_gateway.convert import allocation_out
from swingflow_gateway.deps import SessionDep, SettingsDep
from swingflow_gateway.params import Offset
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.schemas import AllocationPage, Portfolio, Position

router = APIRouter(prefix="/api", tags=["portfolio"])

MAX_LIMIT = 500


@router.get("/portfolio", response_model=Portfolio)
async def portfolio(session: SessionDep, settings: SettingsDep) -> Portfolio:
    """The paper portfolio now: cash from the last snapshot, positions at their last price.

    Before the first snapshot, cash is the strategy's `initial_cash`. A position's last
    price is the one the portfolio service recorded, else the symbol's last stored close,
    else its average price. Equity is cash plus the positions' market value.
    """
    rows = await queries.list_positions(session)
    snapshot = await queries.latest_snapshot(session)
    unpriced = [p.symbol for p in rows if p.last_price is None]
    closes = await queries.latest_closes(session, unpriced)
    if snapshot is not None:
        cash = snapshot.cash
    else:
        try:
            config = await asyncio.to_thread(load_config, settings.swingflow_config)
        except ConfigError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
        cash = config.risk.initial_cash
    priced = [(p, p.last_price or closes.get(p.symbol) or p.avg_price) for p in rows]
    equity = cash + sum(p.quantity * price for p, price in priced)
    positions = [
        Position(
            symbol=p.symbol,
            quantity=p.quantity,
            avg_price=p.avg_price,
            last_price=price,
            market_value=p.quantity * price,
            weight=(p.quantity * price / equity) if equity > 0 else 0.0,
            stop=p.stop,
            target=p.target,
            unrealized_pnl=(price - p.avg_price) * p.quantity,
        )
        for p, price in priced
    ]
    times: list[datetime] = [p.updated_at for p in rows]
    if snapshot is not None:
        times.append(snapshot.ts)
    return Portfolio(
        as_of=max(times) if times else utcnow(), cash=cash, equity=equity, positions=positions
    )


@router.get("/allocations", response_model=AllocationPage, responses=ERRORS)
async def list_allocations(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Offset = 0,
) -> AllocationPage:
    """The portfolio's allocations, newest first."""
    rows = await repository.list_allocations(session, limit, offset)
    total = await queries.count_allocations(session)
    return AllocationPage(
        items=[allocation_out(r) for r in rows], total=total, limit=limit, offset=offset
    )
