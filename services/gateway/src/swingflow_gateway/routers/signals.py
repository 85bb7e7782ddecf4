"""`GET /api/signals` (filtered, paginated, newest first) and `GET /api/signals/funnel`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from swingflow_common.db import queries, repository
from swingflow_common.messages import STAGE_NAMES
from swingflow_gateway.convert import json_response, signal_out
from swingflow_gateway.deps import SessionDep
from swingflow_gateway.params import MinScore, Offset, PeriodDep, SetupQuery, SymbolQuery
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.schemas import Funnel, FunnelStage, SignalPage, SignalStatus

router = APIRouter(prefix="/api/signals", tags=["signals"])

MAX_LIMIT = 500


@router.get("", response_model=SignalPage, responses=ERRORS)
async def list_signals(  # the answer is built (and validated) here, then sent as is
    session: SessionDep,
    period: PeriodDep,
    status: Annotated[SignalStatus | None, Query(description="Only this status.")] = None,
    symbol: SymbolQuery = None,
    setup: SetupQuery = None,
    min_score: MinScore = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Offset = 0,
) -> Response:
    """Signals (candidates and verdicts) matching the filters, newest bar first."""
    where = repository.SignalFilter(
        status=status,
        symbol=symbol,
        setup=setup,
        start=period.start,
        end=period.end,
        min_total=min_score,
    )
    rows = await queries.signal_page(session, where, limit, offset)
    total = await repository.count_signals(session, where)
    page = SignalPage(items=[signal_out(r) for r in rows], total=total, limit=limit, offset=offset)
    response: Response = json_response(page)
    return response


@router.get("/funnel", response_model=Funnel, responses=ERRORS)
async def funnel(session: SessionDep, period: PeriodDep) -> Funnel:
    """How many signals of the period each stage let through, in pipeline order.

    Stages see the evaluated signals (confirmed and rejected) in order; a signal stops
    at the first stage that refused it, and the last step is the integration threshold.
    """
    counts = await queries.signal_funnel(session, period.start, period.end)
    confirmed = counts.by_status.get("confirmed", 0)
    rejected = counts.by_status.get("rejected", 0)
    reached = confirmed + rejected
    stages = []
    for name in (*STAGE_NAMES, "threshold"):
        refused = counts.rejected_by.get(name, 0)
        stages.append(FunnelStage(stage=name, passed=reached - refused, rejected=refused))
        reached -= refused
    return Funnel(
        candidates=sum(counts.by_status.values()),
        confirmed=confirmed,
        rejected=rejected,
        pending=counts.by_status.get("candidate", 0),
        stages=stages,
    )
