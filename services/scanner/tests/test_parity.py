"""PARITY, the core of the service: real S&P 500 symbols replayed through NATS, day by
day, give exactly the candidates of the pure pipeline run bar by bar (each bar's features
computed on the bars up to it, rs_rank from the session before): same ids, same base
scores, same feature snapshots, bit for bit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from scanner_helpers import (
    CONFIG,
    by_id,
    candidates,
    day_ordered_bars,
    publish_all,
    running,
    settings,
    sp500_symbols,
    stream_count,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.testing import eventually

pytestmark = pytest.mark.integration
N_SYMBOLS = 30


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scanner.db'}"
    await migrate_async(url)
    engine = engine_from_url(url)
    yield session_factory(engine)
    await engine.dispose()


async def test_scanner_over_nats_equals_the_pure_pipeline_bar_by_bar(
    js: JetStreamContext, nats_url: str, sqlite_sessions: async_sessionmaker[AsyncSession]
) -> None:
    data = sp500_symbols(N_SYMBOLS)
    bars = day_ordered_bars(data)
    assert len(data.bars) == N_SYMBOLS
    assert len(bars) > N_SYMBOLS * 200
    expected = candidates_over_history(data, CONFIG, bar_by_bar=True)
    async with running(js, sqlite_sessions, settings(nats_url, "sqlite://", batch_size=2_000)):
        acks = await publish_all(js, bars)
        assert not any(a.duplicate for a in acks)

        async def caught_up() -> bool:
            info = await js.consumer_info("MARKET", "scanner-0-of-1")
            return bool(info.num_pending == 0 and info.num_ack_pending == 0)

        await eventually(caught_up, within=60)
    got = await candidates(js)
    assert await stream_count(js, "SIGNALS", subjects.CANDIDATES_ALL) == len(got)
    assert len(expected) > 100
    assert sorted(c.id for c in got) == sorted(
        c.id for c in expected
    )  # no extra, no missing, no doubles
    published = by_id(got)
    for c in expected:
        mine = published[c.id]
        assert mine.base == c.base
        assert mine.features == c.features
        assert (mine.symbol, mine.ts, mine.setup, mine.close, mine.atr) == (
            c.symbol,
            c.ts,
            c.setup,
            c.close,
            c.atr,
        )
    ranked = [c for c in expected if c.features["rs_rank"] is not None]
    assert len(ranked) > len(expected) // 2
