"""`SignalCounts`: the `total` of `GET /api/signals` is kept per filter, recounted in the
background after its TTL or a signal message, once per filter at a time; and over the app,
a confirmed signal heard on NATS brings the new total without waiting for the TTL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.db.repository import SignalFilter
from swingflow_common.testing import eventually
from swingflow_gateway import signal_counts
from swingflow_gateway.app import create_app
from swingflow_gateway.signal_counts import SignalCounts

from .factories import Sessions, candidate, seed_signal, verdict
from .helpers import serve

pytestmark = pytest.mark.integration
ALL = SignalFilter()
AAPL = SignalFilter(symbol="AAPL")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class OpenedSessions:
    """The real session factory, counting the sessions opened (one per count) and the most
    open at once."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.opened = 0
        self.open_now = 0
        self.peak = 0

    def __call__(self) -> Any:
        self.opened += 1
        return Tracked(self, self.sessions())


class Tracked:
    def __init__(self, owner: OpenedSessions, session: AsyncSession) -> None:
        self.owner, self.session = owner, session

    async def __aenter__(self) -> AsyncSession:
        self.owner.open_now += 1
        self.owner.peak = max(self.owner.peak, self.owner.open_now)
        return await self.session.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.owner.open_now -= 1
        await self.session.__aexit__(*exc)


@pytest.fixture
async def sessions(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counts.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    yield session_factory(engine)
    await engine.dispose()


def counts_over(opened: OpenedSessions, clock: Clock, **options: Any) -> SignalCounts:
    factory = cast(async_sessionmaker[AsyncSession], opened)
    return SignalCounts(factory, ttl_s=5.0, min_age_s=1.0, clock=clock, **options)


async def test_a_count_is_kept_until_its_ttl_then_recounted_in_the_background(
    sessions: Sessions,
) -> None:
    clock, opened = Clock(), OpenedSessions(sessions)
    counts = counts_over(opened, clock)
    for n in (1, 2):
        await seed_signal(sessions, candidate("AAPL", n))
    assert await counts.count(ALL) == 2
    await seed_signal(sessions, candidate("AAPL", 3))
    clock.now += 4.0  # within the TTL: the kept count, no query
    assert await counts.count(ALL) == 2
    assert opened.opened == 1
    clock.now += 2.0  # past it: this answer is still the kept count, a recount starts
    assert await counts.count(ALL) == 2

    async def recounted() -> bool:
        return await counts.count(ALL) == 3

    await eventually(recounted)
    assert opened.opened == 2  # one recount, however often it was asked meanwhile
    await counts.close()


async def test_a_signal_message_makes_counts_stale_at_most_once_per_min_age(
    sessions: Sessions,
) -> None:
    clock, opened = Clock(), OpenedSessions(sessions)
    counts = counts_over(opened, clock)
    heard: list[str] = []
    handler = counts.watching(lambda subject, data: heard.append(subject))
    await seed_signal(sessions, candidate("AAPL", 1))
    assert await counts.count(AAPL) == 1
    await seed_signal(sessions, candidate("AAPL", 2))
    handler(subjects.bars("AAPL"), b"{}")  # not a signal: nothing changes
    clock.now += 1.5
    assert await counts.count(AAPL) == 1
    assert opened.opened == 1
    handler(subjects.confirmed("AAPL"), b"{}")
    assert heard == [subjects.bars("AAPL"), subjects.confirmed("AAPL")]  # still delivered

    async def recounted() -> bool:
        return await counts.count(AAPL) == 2

    await eventually(recounted)
    assert opened.opened == 2
    handler(subjects.candidates("AAPL"), b"{}")  # right after that recount: not yet again
    clock.now += 0.5
    assert await counts.count(AAPL) == 2
    assert opened.opened == 2
    await counts.close()


async def test_requests_that_find_no_count_share_one(sessions: Sessions) -> None:
    opened = OpenedSessions(sessions)
    counts = counts_over(opened, Clock())
    await seed_signal(sessions, candidate("AAPL", 1))
    assert await asyncio.gather(*(counts.count(ALL) for _ in range(5))) == [1] * 5
    assert opened.opened == 1


async def test_counts_run_one_at_a_time(sessions: Sessions) -> None:
    opened = OpenedSessions(sessions)
    counts = counts_over(opened, Clock())
    await seed_signal(sessions, candidate("AAPL", 1))
    filters = [SignalFilter(symbol=s) for s in ("AAPL", "MSFT", "NVDA", "AMD", "INTC", "QCOM")]
    assert await asyncio.gather(*(counts.count(f) for f in filters)) == [1, 0, 0, 0, 0, 0]
    assert (opened.opened, opened.peak) == (6, signal_counts.MAX_COUNTING)


async def test_the_least_recently_used_filter_is_dropped_first(sessions: Sessions) -> None:
    opened = OpenedSessions(sessions)
    counts = counts_over(opened, Clock(), max_filters=2)
    await seed_signal(sessions, candidate("AAPL", 1))
    msft = SignalFilter(symbol="MSFT")
    assert [await counts.count(f) for f in (ALL, AAPL, ALL, msft)] == [1, 1, 1, 0]
    assert opened.opened == 3
    assert await counts.count(ALL) == 1  # kept: used more recently than AAPL
    assert opened.opened == 3
    assert await counts.count(AAPL) == 1  # dropped: counted again
    assert opened.opened == 4


async def test_a_remembered_count_needs_no_query(sessions: Sessions) -> None:
    opened = OpenedSessions(sessions)
    counts = counts_over(opened, Clock())
    counts.remember(AAPL, 7)
    assert await counts.count(AAPL) == 7
    assert opened.opened == 0


async def test_a_confirmed_signal_on_nats_brings_the_new_total(
    database_url: str,
    db_sessions: Sessions,
    nats_url: str,
    make_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(signal_counts, "TTL_S", 3_600.0)  # only the message can refresh it
    monkeypatch.setattr(signal_counts, "MIN_AGE_S", 0.0)
    for n in (1, 2, 3):
        await seed_signal(db_sessions, candidate("AAPL", n))
    app = create_app(make_settings(database_url, nats_url), warm_up=False)
    async with serve(app) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        async def total() -> int:
            answer = await client.get("/api/signals", params={"limit": 2})
            return int(answer.json()["total"])

        await eventually(ready)
        assert await total() == 3
        new = candidate("AAPL", 4)
        await seed_signal(db_sessions, new)  # stored, not announced yet
        assert await total() == 3
        signal = verdict(new).signal
        assert signal is not None
        connection = await nats.connect(nats_url)
        await connection.publish(subjects.confirmed("AAPL"), signal.model_dump_json().encode())
        await connection.drain()

        async def four() -> bool:
            return await total() == 4

        await eventually(four)
