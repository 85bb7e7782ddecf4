"""Ticks over NATS: a session's ticks become one daily bar on md.bars once the session
(plus grace) is over, bad and late ticks go to the DLQ, and a restart in the middle of a
session still publishes the whole bar."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from nats.js import JetStreamContext
from scanner_helpers import dead_letters, publish_all, read_stream, running, settings, stream_count
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams
from swingflow_common.db import engine_from_url, migrate_async, repository, session_factory
from swingflow_common.messages import Bar, Tick
from swingflow_common.testing import eventually

pytestmark = pytest.mark.integration
NY = ZoneInfo("America/New_York")
DAY = date(2024, 3, 8)
GRACE_S = 60.0


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def at(hh: int, mm: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=NY)


def ticks(symbol: str, prices: list[float], start: int = 10) -> list[Tick]:
    return [
        Tick(symbol=symbol, ts=at(start + i // 60, i % 60), price=p, size=10 * (i + 1))
        for i, p in enumerate(prices)
    ]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scanner.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    yield session_factory(engine)
    await engine.dispose()


async def bars_on_stream(js: JetStreamContext) -> list[Bar]:
    return [m for m in await read_stream(js, "MARKET", subjects.BARS_ALL) if isinstance(m, Bar)]


async def test_a_sessions_ticks_become_one_bar_once_the_session_is_over(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = Clock(at(15, 0))
    conf = settings(nats_url, "sqlite://", session_grace_s=GRACE_S, jobs=False)
    aapl = ticks("AAPL", [100.0, 102.0, 99.0, 101.0])
    brk = ticks("BRK.B", [300.0, 301.0])
    async with running(js, sessions, conf, clock=clock):
        await publish_all(js, [*aapl, *brk])
        bad = b'{"type": "tick", "schema_version": 1, "symbol": "AAPL", "price": -1}'
        await js.publish(subjects.ticks("AAPL"), bad)
        outside = Tick(symbol="AAPL", ts=at(18, 0), price=500.0, size=1)
        await publish_all(js, [outside])
        await eventually(lambda: at_least(js, "DLQ", subjects.dlq("scanner"), 1))
        clock.now = at(16, 0) + timedelta(seconds=GRACE_S)  # the timer may now close it
        await eventually(lambda: at_least(js, "MARKET", subjects.BARS_ALL, 1), within=10)

        async def stored() -> bool:
            async with sessions() as session:
                return len(await repository.latest_bars(session, "BRK.B", 5)) == 1

        await eventually(stored)
        late = Tick(symbol="AAPL", ts=at(15, 30), price=100.0, size=1)
        await publish_all(js, [late])
        await eventually(lambda: at_least(js, "DLQ", subjects.dlq("scanner"), 2))
    by_symbol = {b.symbol: b for b in await bars_on_stream(js)}
    assert set(by_symbol) == {"AAPL", "BRK.B"}
    a = by_symbol["AAPL"]
    assert a.ts == datetime(2024, 3, 8, tzinfo=UTC)
    assert (a.open, a.high, a.low, a.close, a.volume) == (100.0, 102.0, 99.0, 101.0, 100.0)
    reasons = [d.reason for d in await dead_letters(js)]
    assert any("price" in r for r in reasons)
    assert any(r.startswith("late tick: session 2024-03-08") for r in reasons)
    assert not any("500" in r for r in reasons)  # an after-hours trade is not an error


async def at_least(js: JetStreamContext, stream: str, subject: str, n: int) -> bool:
    count: int = await stream_count(js, stream, subject)
    return count >= n


async def test_a_restart_mid_session_still_publishes_the_whole_bar(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await ensure_streams(js)
    clock = Clock(at(12, 0))
    conf = settings(nats_url, "sqlite://", session_grace_s=GRACE_S, jobs=False)
    morning = ticks("MSFT", [50.0, 55.0, 49.0], start=10)
    afternoon = ticks("MSFT", [51.0, 52.0], start=13)
    async with running(js, sessions, conf, clock=clock):
        await publish_all(js, morning)

        async def acked() -> bool:
            info = await js.consumer_info("MARKET", "scanner-ticks-0-of-1")
            return bool(info.ack_floor.stream_seq >= len(morning))

        await eventually(acked)
    await publish_all(js, afternoon)  # while it is down
    clock.now = at(16, 0) + timedelta(seconds=GRACE_S)
    async with running(js, sessions, conf, clock=clock):
        await eventually(lambda: at_least(js, "MARKET", subjects.BARS_ALL, 1))
    (bar,) = await bars_on_stream(js)
    assert (bar.open, bar.high, bar.low, bar.close) == (50.0, 55.0, 49.0, 52.0)
    assert bar.volume == sum(t.size for t in [*morning, *afternoon])
