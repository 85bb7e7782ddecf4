"""`GET /api/signals` (filtered, paginated, newest first) and `GET /api/signals/funnel`."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from swingflow_common.db import queries, repository
from swingflow_common.messages import STAGE_NAMES
from swingflow_gateway.convert import json_response, signal_out
from swingflow_gateway.deps import SessionDep
from swingflow_gateway.params import MinScore, Offset, PeriodDep, SetupQuery, SymbolQuery
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.schemas import Funnel, FunnelStage, SignalPage, SignalStatus

router = APIRouter(prefix="/api/signals", tags=["signals"])

MAX_LIMIT = 500
MAX_CURSOR = 512  # characters: a cursor is a bar time and a signal id


def encode_cursor(ts: datetime, signal_id: str) -> str:
    """The opaque `cursor` that continues after the row (ts, id)."""
    raw = json.dumps([ts.isoformat(), signal_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (ts, id) a cursor stands for; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts_text, signal_id = json.loads(raw)
        ts = datetime.fromisoformat(ts_text)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("cursor: not a cursor from a previous page's next_cursor") from exc
    if not isinstance(signal_id, str) or ts.tzinfo is None:
        raise ValueError("cursor: not a cursor from a previous page's next_cursor")
    return ts, signal_id


def _cursor_of(row: Any) -> str:
    return encode_cursor(row.ts, row.id)


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
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",  # base64url, unpadded
            description="A previous page's `next_cursor`: the page after it (with offset 0).",
        ),
    ] = None,
) -> Response:
    """Signals (candidates and verdicts) matching the filters, newest bar first.

    Deep pages: follow `next_cursor` rather than raising `offset`; a cursor page is read
    from the index at any depth, an offset reads and skips every row before it.
    """
    try:
        after = decode_cursor(cursor) if cursor is not None else None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    where = repository.SignalFilter(
        status=status,
        symbol=symbol,
        setup=setup,
        start=period.start,
        end=period.end,
        min_total=min_score,
    )
    rows = await queries.signal_page(session, where, limit, offset, after)
    total = await repository.count_signals(session, where)
    page = SignalPage(
        items=[signal_out(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=_cursor_of(rows[-1]) if len(rows) == limit else None,
    )
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
