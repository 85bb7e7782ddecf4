"""THE MALFORMED-INPUT TEST: valid bars interleaved with every kind of bad message, sent
with plain nats-py as an outside system would. Every bad one lands in the DLQ with its
reason and is counted, the scanner keeps running, and no valid bar is lost: all are
stored, and the candidates are exactly those of the pure pipeline on the valid bars."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from scanner_helpers import (
    CONFIG,
    by_id,
    candidates,
    day_ordered_bars,
    dead_letters,
    running,
    settings,
    sp500_symbols,
    stream_count,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import MSG_ID_HEADER, msg_id
from swingflow_common.db.models import BarRow
from swingflow_common.observability import SERVICE_READY
from swingflow_common.pipeline.history import candidates_over_history

pytestmark = pytest.mark.integration

GOOD = {
    "type": "bar",
    "schema_version": 1,
    "symbol": "AAPL",
    "interval": "1d",
    "ts": "2010-03-01T00:00:00Z",
    "open": 10.0,
    "high": 11.0,
    "low": 9.0,
    "close": 10.5,
    "volume": 1000,
}


def bad(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


INVALID, JSON, TYPE = "invalid_message", "invalid_json", "unexpected_type"
NO_CLOSE = json.dumps({k: v for k, v in GOOD.items() if k != "close"}).encode()
TICK = json.dumps(
    {"type": "tick", "symbol": "AAPL", "ts": "2010-03-01T15:00:00Z", "price": 10.0, "size": 5}
).encode()

# (payload, the reason's telltale, reason kind)
MALFORMED: list[tuple[bytes, str, str]] = [
    (bad(open="ten"), "open: Input should be a valid number", INVALID),
    (NO_CLOSE, "close: Field required", INVALID),
    (bad(high=8.0), "high 8.0 is below low 9.0", INVALID),
    (
        bad().replace(b'"close": 10.5', b'"close": NaN'),
        "close: Input should be a finite number",
        INVALID,
    ),
    (bad(open=1e12, high=1e12), "open: Input should be less than or equal to 10000000", INVALID),
    (bad(symbol="aa pl"), "symbol 'aa pl' must be 1-16 upper-case", INVALID),
    (b"this is { not json", "Invalid JSON", JSON),
    (TICK, "expected a Bar on md.bars.AAPL, got Tick", TYPE),
    (bad(symbol="MSFT"), "symbol MSFT does not match subject md.bars.AAPL", INVALID),
]


def dlq_count(kind: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "swingflow_dlq_messages_total", {"service": "scanner", "reason_kind": kind}
        )
        or 0.0
    )


async def stored_bars(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(BarRow)) or 0)


async def test_malformed_bars_go_to_the_dlq_and_no_valid_bar_is_lost(
    js: JetStreamContext,
    nats_url: str,
    database_url: str,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = sp500_symbols(6, offset=3)
    valid = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    assert expected
    late = valid[100].model_copy(update={"close": valid[100].low})  # sent after its symbol moved on
    kinds_before = {k: dlq_count(k) for _, _, k in MALFORMED}
    async with running(js, db_sessions, settings(nats_url, database_url, batch_size=200)):
        for i, bar in enumerate(valid):
            await js.publish(
                subjects.bars(bar.symbol),
                bar.model_dump_json().encode(),
                headers={MSG_ID_HEADER: msg_id(bar) or ""},
            )
            if i % 150 == 75 and i // 150 < len(MALFORMED):
                await js.publish(subjects.bars("AAPL"), MALFORMED[i // 150][0])
            if i == 600:
                await js.publish(subjects.bars(late.symbol), late.model_dump_json().encode())
        await eventually_all(js, db_sessions, len(valid), len(expected), len(MALFORMED) + 1)
        assert SERVICE_READY.labels("scanner")._value.get() == 1.0  # still running
    letters = {d.payload: d for d in await dead_letters(js)}
    for payload, telltale, _ in MALFORMED:
        letter = letters[payload.decode()]  # kept as sent, with its reason
        assert telltale in letter.reason
        assert letter.subject == subjects.bars("AAPL")
    assert letters[late.model_dump_json()].reason.startswith("out of order")
    for kind in {k for _, _, k in MALFORMED}:
        sent = sum(1 for _, _, k in MALFORMED if k == kind) + (kind == "invalid_message")
        assert dlq_count(kind) - kinds_before[kind] == sent
    got = by_id(await candidates(js))
    assert set(got) == {c.id for c in expected}
    for c in expected:
        assert got[c.id].features == c.features
        assert got[c.id].base == c.base


async def eventually_all(
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    bars: int,
    cands: int,
    letters: int,
) -> None:
    from swingflow_common.testing import eventually

    async def done() -> bool:
        return (
            await stored_bars(sessions) == bars
            and await stream_count(js, "SIGNALS", subjects.CANDIDATES_ALL) == cands
            and await stream_count(js, "DLQ", subjects.dlq("scanner")) == letters
        )

    await eventually(done, within=30)
