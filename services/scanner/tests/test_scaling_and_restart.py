"""Replicas and restarts over NATS: two replicas share the work without doubling it, a
restarted scanner picks up from the database and its ack floor, and the latest analysis
of each symbol is in the `analysis` KV bucket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext
from scanner_helpers import (
    CONFIG,
    candidates,
    day_ordered_bars,
    publish_all,
    running,
    settings,
    sp500_symbols,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.db.models import BarRow
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.testing import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scanner.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    yield session_factory(engine)
    await engine.dispose()


def caught_up(js: JetStreamContext, *durables: str):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        for durable in durables:
            info = await js.consumer_info("MARKET", durable)
            if info.num_pending or info.num_ack_pending:
                return False
        return True

    return check


async def stored(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(BarRow)) or 0)


async def test_two_replicas_store_each_bar_once_and_find_every_candidate(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    data = sp500_symbols(10, offset=2)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    conf = {"replicas": 2, "ticks": False, "jobs": False}
    async with (
        running(js, sessions, settings(nats_url, "sqlite://", replica=0, **conf)),
        running(js, sessions, settings(nats_url, "sqlite://", replica=1, **conf)),
    ):
        await publish_all(js, bars)
        await eventually(caught_up(js, "scanner-0-of-2", "scanner-1-of-2"), within=30)
        kv = await js.key_value(subjects.ANALYSIS_BUCKET)

        async def every_latest_complete() -> bool:  # the setup tier is completed when quiet
            for symbol in data.bars:
                latest = json.loads((await kv.get(subjects.token(symbol))).value or b"{}")
                if not latest.get("complete"):
                    return False
            return True

        await eventually(every_latest_complete, within=30)
    assert await stored(sessions) == len(bars)
    got = await candidates(js)
    assert sorted(c.id for c in got) == sorted(c.id for c in expected)
    for symbol, frame in data.bars.items():
        latest = json.loads((await kv.get(subjects.token(symbol))).value or b"{}")
        assert latest["symbol"] == symbol
        assert latest["ts"].startswith(f"{frame.index[-1]:%Y-%m-%d}")
        assert latest["features"]["close"] == frame["close"].iloc[-1]
        assert "rs_rank" in latest["features"]
        assert "stoch_k" in latest["features"]  # a module outside the setup tier


async def test_a_restarted_scanner_resumes_from_the_database_and_its_ack_floor(
    js: JetStreamContext, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    data = sp500_symbols(10, offset=7)
    bars = day_ordered_bars(data)
    expected = candidates_over_history(data, CONFIG)
    cut = len(bars) * 3 // 5
    conf = settings(nats_url, "sqlite://", ticks=False, jobs=False, batch_size=500)
    async with running(js, sessions, conf):
        await publish_all(js, bars[:cut])
        await eventually(caught_up(js, "scanner-0-of-1"), within=30)
    await publish_all(js, bars[cut:])  # while it is down
    async with running(js, sessions, conf) as second:
        first_half = {s: sum(1 for b in bars[:cut] if b.symbol == s) for s in data.bars}
        assert {s: len(b) for s, b in second.state.books.items()} == first_half  # from the db
        await eventually(caught_up(js, "scanner-0-of-1"), within=30)
    got = await candidates(js)
    assert sorted(c.id for c in got) == sorted(c.id for c in expected)  # none lost, none twice
    assert await stored(sessions) == len(bars)
