"""`db.Writer`: one held connection, each statement committed on its own, replaced after
a failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from swingflow_common.db import Writer, engine_from_url
from swingflow_common.db import repository as repo
from swingflow_common.messages import Bar


def _bar(day: int) -> Bar:
    ts = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return Bar(symbol="AAPL", ts=ts, open=10, high=11, low=9, close=10, volume=day)


async def _stored(url: str) -> int:
    engine = engine_from_url(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sa.text("SELECT count(*) FROM bars"))
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_writes_share_one_connection_and_are_committed_at_once(database_url: str) -> None:
    engine = engine_from_url(database_url)
    writer = Writer(engine)
    try:
        async with writer.connection() as first:
            await repo.upsert_bars(first, [_bar(0)])
        stored_after_first = await _stored(database_url)
        async with writer.connection() as second:
            await repo.upsert_bars(second, [_bar(1), _bar(2)], known_symbols={"AAPL"})
        await writer.close()
        with pytest.raises(RuntimeError, match="closed"):  # a late batch opens nothing
            async with writer.connection():
                pass
    finally:
        await engine.dispose()
    assert first is second
    assert stored_after_first == 1
    assert await _stored(database_url) == 3


async def test_a_failed_write_gives_the_next_one_a_new_connection(database_url: str) -> None:
    engine = engine_from_url(database_url)
    writer = Writer(engine)
    try:
        with pytest.raises(sa.exc.IntegrityError):  # no symbol row: the foreign key refuses
            async with writer.connection() as broken:
                await repo.upsert_bars(broken, [_bar(0)], known_symbols={"AAPL"})
        async with writer.connection() as fresh:
            await repo.upsert_bars(fresh, [_bar(0)])
        await writer.close()
    finally:
        await engine.dispose()
    assert fresh is not broken
    assert await _stored(database_url) == 1
