"""`GET /api/symbols` and `GET /api/symbol/{symbol}/analysis` (bars, indicators, signals)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from swingflow_common import subjects
from swingflow_common.db import queries, repository
from swingflow_gateway import analysis
from swingflow_gateway.convert import signal_out
from swingflow_gateway.deps import ResourcesDep, SessionDep
from swingflow_gateway.params import SymbolPath
from swingflow_gateway.resources import Resources
from swingflow_gateway.routers import ERRORS, NOT_FOUND
from swingflow_gateway.schemas import Analysis, OhlcvBar, SymbolItem, SymbolList

router = APIRouter(prefix="/api", tags=["symbols"])
log = logging.getLogger(__name__)

MAX_BARS = 5_000
RECENT_SIGNALS = 50
KV_TIMEOUT = 1.0


@router.get("/symbols", response_model=SymbolList)
async def list_symbols(session: SessionDep) -> SymbolList:
    """Every active symbol with its last daily close and the change from the one before."""
    summaries = await queries.symbol_summaries(session)
    items = [
        SymbolItem(
            symbol=s.symbol,
            last_ts=s.last_ts,
            last_close=s.last_close,
            change_pct=s.change_pct,
            bars=s.bars,
        )
        for s in summaries
    ]
    return SymbolList(items=items, total=len(items))


@router.get("/symbol/{symbol}/analysis", response_model=Analysis, responses={**ERRORS, **NOT_FOUND})
async def symbol_analysis(
    symbol: SymbolPath,
    session: SessionDep,
    resources: ResourcesDep,
    bars: Annotated[int, Query(ge=1, le=MAX_BARS, description="Daily bars to return.")] = 250,
    indicators: Annotated[
        str | None,
        Query(max_length=2_000, description="Comma-separated indicator names; all when absent."),
    ] = None,
) -> Analysis:
    """The symbol's last bars, every indicator aligned with them, and its recent signals."""
    history = await repository.latest_bars(session, symbol, bars + analysis.WARMUP_BARS)
    if not history:
        known = await queries.symbol_known(session, symbol)
        reason = "has no daily bars stored yet" if known else "is not a known symbol"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{symbol} {reason}")
    names = [n.strip() for n in indicators.split(",") if n.strip()] if indicators else None
    try:
        computed = await asyncio.to_thread(analysis.compute, history, bars, names)
    except analysis.UnknownIndicatorError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    rows = await queries.signal_page(
        session, repository.SignalFilter(symbol=symbol), limit=RECENT_SIGNALS
    )
    signals = [signal_out(r) for r in rows]
    from_kv = None if names else await _kv_latest(resources, symbol, history[-1].ts)
    latest = from_kv or computed.latest
    return Analysis(
        symbol=symbol,
        bars=[
            OhlcvBar(ts=b.ts, open=b.open, high=b.high, low=b.low, close=b.close, volume=b.volume)
            for b in history[-bars:]
        ],
        indicators=computed.arrays,
        latest=latest,
        signals=signals,
        latest_evaluation=next((s for s in signals if s.status != "candidate"), None),
    )


async def _kv_latest(
    resources: Resources, symbol: str, last_ts: datetime
) -> dict[str, float | None] | None:
    """The scanner's analysis of `symbol`'s last stored bar from the KV bucket, if it has it.

    It adds what only the scanner knows (`rs_rank`, ranked across the universe); one for
    another bar than the chart's last is not used.
    """
    if not resources.nats.connected:
        return None
    try:
        bucket = await asyncio.wait_for(
            resources.nats.key_value(subjects.ANALYSIS_BUCKET), KV_TIMEOUT
        )
        entry = await asyncio.wait_for(bucket.get(subjects.token(symbol)), KV_TIMEOUT)
        value = json.loads(entry.value or b"null")
    except Exception as exc:  # no bucket, no key, NATS slow, not JSON: compute instead
        log.debug("no KV analysis for %s: %r", symbol, exc)
        return None
    if not isinstance(value, dict) or not isinstance(value.get("features"), dict):
        return None
    try:
        if datetime.fromisoformat(str(value.get("ts"))) != last_ts:
            return None
    except ValueError:
        return None
    features = value["features"]
    return {
        str(k): (float(v) if isinstance(v, int | float) and math.isfinite(v) else None)
        for k, v in features.items()
        if v is None or isinstance(v, int | float)
    } or None
