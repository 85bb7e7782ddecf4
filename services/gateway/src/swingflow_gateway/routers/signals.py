"""`GET /api/signals` (filtered, paginated, newest first) and `GET /api/signals/funnel`."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from swingflow_common.db import queries, repository
from swingflow_common.messages import STAGE_NAMES
from swingflow_gateway.convert import SIGNAL_COLUMNS, signal_page_response
from swingflow_gateway.deps import ResourcesDep, SessionDep
from swingflow_gateway.params import MinScore, Offset, PeriodDep, SetupQuery, SymbolQuery
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.schemas import Funnel, FunnelStage, SignalPage, SignalStatus
from swingflow_gateway.signal_counts import TTL_S

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


LIST_DESCRIPTION = f"""Signals (candidates and verdicts) matching the filters, newest bar first.

Deep pages: follow `next_cursor` rather than raising `offset`; a cursor page is read
from the index at any depth, an offset reads and skips every row before it.

`total` is exact on a first page shorter than `limit`. Otherwise it is a count of the
matching signals that began at most {TTL_S:g} seconds before (recounted sooner after a new
signal), so it can lag the signals stored in the last few seconds; it is never less
than `offset` plus the rows of a non-empty offset page.
"""


@router.get("", response_model=SignalPage, responses=ERRORS, description=LIST_DESCRIPTION)
async def list_signals(  # the answer is built (and validated) here, then sent as is
    session: SessionDep,
    resources: ResourcesDep,
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
    """A page of signals; `LIST_DESCRIPTION` (the OpenAPI text) says what `total` means."""
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
    rows = await queries.signal_page(
        session, where, limit, offset, after, columns=SIGNAL_COLUMNS, json_text=True
    )
    counts = resources.signal_counts
    if offset == 0 and after is None and len(rows) < limit:
        total = len(rows)  # every match is on this page: exact, and no count needed
        counts.remember(where, total)
    else:
        total = await counts.count(where)
        if after is None and rows:  # a kept count never says fewer than this page shows
            total = max(total, offset + len(rows))
    next_cursor = encode_cursor(rows[-1].ts, rows[-1].id) if len(rows) == limit else None
    return signal_page_response(rows, total, limit, offset, next_cursor)


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
