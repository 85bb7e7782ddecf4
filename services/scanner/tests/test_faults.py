"""Transient faults: a database that fails for a while and a publish that fails after the
commit. The batch is redelivered, nothing is lost, nothing is announced twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from scanner_helpers import (
    CONFIG,
    candidates,
    day_ordered_bars,
    dead_letters,
    publish_all,
    running,
    settings,
    sp500_symbols,
    stream_count,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams
from swingflow_common.db import (
    Writer,
    engine_from_url,
    migrate_async,
    repository,
    session_factory,
)
from swingflow_common.messages import CandidateSignal
from swingflow_common.observability import SERVICE_READY
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.testing import eventually
from swingflow_scanner.bar_handler import BarHandler

pytestmark = pytest.mark.integration


class FlakyWriter(Writer):
    """The scanner's writer whose first `failures` writes fail (a locked database)."""

    failures = 0

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database is locked")
        async with super().connection() as connection:
            yield connection


def flaky_writer(sessions: async_sessionmaker[AsyncSession], failures: int) -> FlakyWriter:
    writer = FlakyWriter.bound_to(sessions)
    writer.failures = failures
    return writer


class FlakyJetStream:
    """The scanner's JetStream context, whose first `failures` writes to the analysis KV
    bucket are never acknowledged (NATS timed out); everything else goes through."""

    def __init__(self, real: JetStreamContext, failures: int) -> None:
        self.real, self.failures = real, failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def publish_async(self, subject: str, *args: Any, **kwargs: Any) -> Any:
        future = await self.real.publish_async(subject, *args, **kwargs)
        if self.failures > 0 and subject.startswith("$KV.analysis."):
            self.failures -= 1
            future.cancel()
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(TimeoutError("nats: timeout"))
            return failed
        return future


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scanner.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    yield session_factory(engine)
    await engine.dispose()


def bar_handler(scanner: Any) -> BarHandler:
    handler: BarHandler = scanner.handlers[scanner.partition.bars_durable][0]
    return handler


async def test_a_database_that_fails_for_a_while_loses_nothing(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    data = sp500_symbols(5, offset=9)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    failures = REGISTRY.get_sample_value("swingflow_scanner_batch_failures_total") or 0.0
    flaky = flaky_writer(sessions, failures=1)  # the first try of the first batch
    conf = settings(nats_url, "sqlite://", ticks=False, jobs=False, max_attempts=5)
    async with running(js, sessions, conf, writer=flaky):
        await publish_all(js, bars)
        total = len(expected)
        await eventually(lambda: at_least(js, subjects.CANDIDATES_ALL, total), within=30)
    assert flaky.failures == 0
    assert (REGISTRY.get_sample_value("swingflow_scanner_batch_failures_total") or 0) > failures
    async with sessions() as session:
        for symbol, frame in data.bars.items():
            assert len(await repository.latest_bars(session, symbol, 1000)) == len(frame)
    assert sorted(c.id for c in await candidates(js)) == sorted(c.id for c in expected)


async def test_a_publish_that_fails_after_the_commit_is_announced_on_redelivery(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    data = sp500_symbols(5, offset=11)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    conf = settings(nats_url, "sqlite://", ticks=False, jobs=False, batch_size=len(bars))
    await ensure_streams(js)
    await publish_all(js, bars)  # all there before it starts: one batch, one failure
    duplicates = published("SIGNALS", "true")
    async with running(js, sessions, conf) as scanner:
        handler = bar_handler(scanner)
        flaky = FlakyJetStream(handler.js, failures=1)
        handler.js = flaky  # type: ignore[assignment]
        await eventually(lambda: at_least(js, "$KV.analysis.>", len(data.bars), "KV_analysis"))
        await eventually(lambda: at_least(js, subjects.CANDIDATES_ALL, len(expected)), within=30)
    assert flaky.failures == 0
    got = await candidates(js)
    assert sorted(c.id for c in got) == sorted(c.id for c in expected)  # each once
    assert await stream_count(js, "SIGNALS", subjects.CANDIDATES_ALL) == len(expected)
    assert published("SIGNALS", "true") - duplicates == len(expected)  # announced again


def published(stream: str, duplicate: str) -> float:
    labels = {"stream": stream, "duplicate": duplicate}
    return REGISTRY.get_sample_value("swingflow_published_messages_total", labels) or 0.0


async def test_a_batch_that_keeps_failing_is_dead_lettered_not_retried_forever(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    bars = day_ordered_bars(sp500_symbols(2))[:10]
    flaky = flaky_writer(sessions, failures=1_000)
    conf = settings(nats_url, "sqlite://", ticks=False, jobs=False, max_attempts=2)
    await ensure_streams(js)
    await publish_all(js, bars)
    async with running(js, sessions, conf, writer=flaky):
        await eventually(lambda: at_least(js, subjects.dlq("scanner"), len(bars), "DLQ"))
        assert SERVICE_READY.labels("scanner")._value.get() == 1.0  # still up
    letters = await dead_letters(js)
    assert sorted(d.payload for d in letters) == sorted(b.model_dump_json() for b in bars)
    assert {d.reason for d in letters} == {
        "gave up after 2 attempts: ConnectionError: database is locked"
    }


async def at_least(js: JetStreamContext, subject: str, n: int, stream: str = "") -> bool:
    count: int = await stream_count(js, stream or "SIGNALS", subject)
    return count >= n


async def _drop_connections(url: str) -> int:
    """Terminate every other connection to the database (a restarted server, as seen by a
    pool); returns how many."""
    engine = engine_from_url(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(result.scalar() or 0)
    finally:
        await engine.dispose()


async def _stored_bars(url: str) -> int:
    engine = engine_from_url(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            count = (await connection.exec_driver_sql("SELECT count(*) FROM bars")).scalar()
            return int(count or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_without_pre_ping_a_dropped_connection_costs_one_retried_batch(
    js: JetStreamContext, nats_url: str, database_url: str
) -> None:
    """The services' engines do not check a pooled connection before use: the batch that
    meets a connection the server dropped fails, and is retried in place on a new one."""
    data = sp500_symbols(5, offset=13)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    half = len(bars) // 2
    failures = REGISTRY.get_sample_value("swingflow_scanner_batch_failures_total") or 0.0
    engine = engine_from_url(database_url, pool_pre_ping=False)
    conf = settings(nats_url, database_url, ticks=False, jobs=False)
    try:
        async with running(js, session_factory(engine), conf):
            await publish_all(js, bars[:half])
            await eventually(lambda: _has(database_url, half), within=30)
            assert await _drop_connections(database_url) >= 1  # the scanner's pooled one
            await publish_all(js, bars[half:])
            await eventually(lambda: at_least(js, subjects.CANDIDATES_ALL, len(expected)), 30)
    finally:
        await engine.dispose()
    assert (REGISTRY.get_sample_value("swingflow_scanner_batch_failures_total") or 0) > failures
    assert await _stored_bars(database_url) == len(bars)
    assert sorted(c.id for c in await candidates(js)) == sorted(c.id for c in expected)


async def _has(url: str, n: int) -> bool:
    return await _stored_bars(url) >= n


class SlowWriter(Writer):
    """The scanner's writer, whose writes are 50 ms late: a batch that announced before
    its write was done would announce candidates whose bar is not stored yet."""

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        await asyncio.sleep(0.05)
        async with super().connection() as connection:
            yield connection


async def test_no_candidate_is_announced_before_its_bar_is_committed(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Each candidate waits for its bar's write: when it arrives, the bar is already
    readable from another connection."""
    data = sp500_symbols(3, offset=4)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    checked: list[bool] = []
    client = await nats.connect(nats_url)

    async def on_candidate(msg: Msg) -> None:
        candidate = CandidateSignal.model_validate_json(msg.data)
        async with sessions() as session:
            (last,) = await repository.latest_bars(session, candidate.symbol, 1)
        checked.append(last.ts >= candidate.ts)

    await client.subscribe(subjects.CANDIDATES_ALL, cb=on_candidate)
    conf = settings(nats_url, "sqlite://", ticks=False, jobs=False)
    async with running(js, sessions, conf, writer=SlowWriter.bound_to(sessions)):
        await publish_all(js, bars)
        await eventually(lambda: at_least(js, subjects.CANDIDATES_ALL, len(expected)), within=60)
        await eventually(lambda: len(checked) >= len(expected))
    await client.drain()
    assert expected
    assert all(checked)
    assert sorted(c.id for c in await candidates(js)) == sorted(c.id for c in expected)
