"""`GET /api/signals` answers byte for byte what the per-row path built before it was made
faster: full ORM rows through `signal_out`, one `SignalPage`, and a count in the same
session. Filters, offsets and cursor walks, on SQLite and PostgreSQL, over rows that
include candidates, null and legacy-shaped JSON columns and ties on the bar time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from swingflow_common.db import repository
from swingflow_common.db.models import SignalRow
from swingflow_gateway.app import create_app
from swingflow_gateway.convert import signal_out
from swingflow_gateway.routers.signals import decode_cursor, encode_cursor
from swingflow_gateway.schemas import SignalPage

from .factories import Sessions, candidate, seed_signal
from .helpers import serve

pytestmark = pytest.mark.integration

LEGACY_STAGES = [  # a row stored before StageScore had minimum, neutral and details
    {"stage": "base_signal", "score": 0.8, "passed": True, "reason": "old row"},
    {"type": "stage_score", "stage": "confirmation", "score": 1, "passed": False, "reason": "x",
     "details": {"adx": 31}},
]  # fmt: skip
LEGACY_WEIGHTS = {"entry_timing": 1, "base_signal": 0}  # whole numbers, another key order
LEGACY_CONTRIBUTIONS = [{"feature": "adx_14", "value": None, "contribution": -0.25}]


async def seed(sessions: Sessions) -> None:
    """20 signals over 9 days: confirmed, refused at each stage, pending candidates, five
    on one day (a tie on ts), and rows whose JSON columns hold legacy shapes or null."""
    stages = (None, "confirmation", "threshold", "entry_timing", "ml_confidence")
    for n in range(1, 10):
        symbol = ("AAPL", "MSFT", "NVDA")[n % 3]
        await seed_signal(sessions, candidate(symbol, n), rejected_by=stages[n % 5])
        if n % 4 == 0:
            await seed_signal(sessions, candidate(symbol, n, "breakout_volume"), judged=False)
    for symbol in ("AMD", "INTC", "QCOM", "TSLA", "BRK.B"):
        await seed_signal(sessions, candidate(symbol, 5), rejected_by=stages[len(symbol) % 5])
    for symbol in ("AMD", "INTC", "QCOM", "TSLA"):
        await seed_signal(sessions, candidate(symbol, 7, "macd_trend_cross"))
    async with sessions.begin() as session:
        await session.execute(
            sa.update(SignalRow)
            .where(SignalRow.id == candidate("NVDA", 2).id)
            .values(stages=LEGACY_STAGES, weights=LEGACY_WEIGHTS,
                    ml_contributions=LEGACY_CONTRIBUTIONS)
        )  # fmt: skip
        await session.execute(  # JSON null rather than SQL NULL
            sa.update(SignalRow).where(SignalRow.id == candidate("AAPL", 3).id).values(weights=None)
        )


async def old_page(
    sessions: Sessions,
    where: repository.SignalFilter,
    limit: int,
    offset: int,
    after: tuple[datetime, str] | None,
) -> bytes:
    """The page as the per-row path built it, from full ORM rows."""
    async with sessions() as session:
        query = sa.select(SignalRow).where(*where.where())
        if after is not None:
            query = query.where(sa.tuple_(SignalRow.ts, SignalRow.id) < sa.tuple_(*after))
        query = query.order_by(SignalRow.ts.desc(), SignalRow.id.desc())
        rows = (await session.scalars(query.limit(limit).offset(offset))).all()
        total = await repository.count_signals(session, where)
    page = SignalPage(
        items=[signal_out(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=encode_cursor(rows[-1].ts, rows[-1].id) if len(rows) == limit else None,
    )
    return page.model_dump_json().encode()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


FILTERS: list[tuple[dict[str, Any], repository.SignalFilter]] = [
    ({}, repository.SignalFilter()),
    ({"status": "confirmed"}, repository.SignalFilter(status="confirmed")),
    ({"status": "candidate"}, repository.SignalFilter(status="candidate")),
    ({"symbol": "msft"}, repository.SignalFilter(symbol="MSFT")),
    ({"setup": "breakout_volume"}, repository.SignalFilter(setup="breakout_volume")),
    ({"min_score": 0.6}, repository.SignalFilter(min_total=0.6)),
    ({"from": "2024-01-04", "to": "2024-01-07"},
     repository.SignalFilter(start=utc("2024-01-04"), end=utc("2024-01-07"))),
    ({"status": "rejected", "symbol": "AMD"},
     repository.SignalFilter(status="rejected", symbol="AMD")),
    ({"symbol": "ZZZ"}, repository.SignalFilter(symbol="ZZZ")),  # matches nothing
]  # fmt: skip


async def test_every_page_is_byte_for_byte_the_per_row_answer(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed(db_sessions)
    app = create_app(make_settings(database_url), warm_up=False)
    async with serve(app) as client:
        for params, where in FILTERS:
            whole: list[str] = []
            for limit, offset in ((50, 0), (4, 0), (4, 4), (3, 7), (5, 40)):
                query = {**params, "limit": limit, "offset": offset}
                answer = await client.get("/api/signals", params=query)
                assert answer.status_code == 200, answer.text
                assert answer.content == await old_page(db_sessions, where, limit, offset, None)
                whole = whole or [item["id"] for item in answer.json()["items"]]
            walked: list[str] = []
            cursor: str | None = None
            while True:  # the cursor walk, two at a time, to the last page
                query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
                answer = await client.get("/api/signals", params=query)
                after = decode_cursor(cursor) if cursor is not None else None
                assert answer.content == await old_page(db_sessions, where, 2, 0, after)
                walked += [item["id"] for item in answer.json()["items"]]
                cursor = answer.json()["next_cursor"]
                if cursor is None:
                    break
            assert walked == whole  # the walk saw every match once, in the page order


async def test_legacy_json_rows_show_with_their_defaults(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed(db_sessions)
    app = create_app(make_settings(database_url), warm_up=False)
    async with serve(app) as client:
        body = (await client.get("/api/signals", params={"limit": 500})).json()
    by_id = {item["id"]: item for item in body["items"]}
    legacy = by_id[candidate("NVDA", 2).id]
    assert legacy["stages"][0] == {
        "schema_version": 1, "type": "stage_score", "stage": "base_signal", "score": 0.8,
        "minimum": 0.0, "passed": True, "neutral": False, "reason": "old row", "details": {},
    }  # fmt: skip
    assert legacy["stages"][1]["details"] == {"adx": 31.0}
    assert legacy["weights"] == {"entry_timing": 1.0, "base_signal": 0.0}
    assert legacy["ml_contributions"][0]["value"] is None
    assert by_id[candidate("AAPL", 3).id]["weights"] == {}  # JSON null
    pending = by_id[candidate("NVDA", 8, "breakout_volume").id]  # SQL NULL weights
    assert (pending["weights"], pending["ml_contributions"], pending["total"]) == ({}, [], None)
    assert body["total"] == len(body["items"]) == 20
