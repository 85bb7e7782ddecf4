"""Engines: the async driver is chosen for the URL, and SQLite is set up for several writers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from swingflow_common.db import (
    autocommit,
    engine_from_url,
    migrate_async,
    normalize_url,
    session_factory,
)
from swingflow_common.db import repository as repo
from swingflow_common.messages import Bar


def test_plain_urls_get_their_async_driver() -> None:
    assert normalize_url("sqlite:///var/x.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"


async def test_sqlite_uses_wal_a_busy_timeout_foreign_keys_and_normal_sync(tmp_path: Path) -> None:
    engine = engine_from_url(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 30_000, 1, 1]  # synchronous 1 = NORMAL (FULL would be 2)


async def test_two_writers_on_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    """Like two services of `swingflow up`: separate engines, interleaved transactions."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    await migrate_async(url)
    engines = [engine_from_url(url), engine_from_url(url)]
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    async def write(engine_index: int, symbol: str) -> None:
        sessions = session_factory(engines[engine_index])
        for day in range(40):
            bar = Bar(symbol=symbol, ts=t0 + timedelta(days=day), open=10, high=11, low=9,
                      close=10, volume=day)  # fmt: skip
            async with sessions.begin() as session:
                await repo.upsert_bars(session, [bar])

    try:
        await asyncio.gather(write(0, "AAPL"), write(1, "MSFT"))
        async with engines[0].connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT count(*) FROM bars")).scalar()
    finally:
        for engine in engines:
            await engine.dispose()
    assert rows == 80


def _bar(symbol: str, day: int) -> Bar:
    ts = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return Bar(symbol=symbol, ts=ts, open=10, high=11, low=9, close=10, volume=day)


async def test_a_read_then_write_unit_of_work_needs_an_immediate_sqlite_transaction(
    tmp_path: Path,
) -> None:
    """Deferred: a transaction that read before another process committed cannot write.
    Immediate: it holds the write lock from its start, so the other writer waits instead."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    await migrate_async(url)
    other, deferred, immediate = (engine_from_url(url), engine_from_url(url),
                                  engine_from_url(url, immediate=True))  # fmt: skip
    count = sa.text("SELECT count(*) FROM bars")
    try:
        async with session_factory(deferred)() as session:
            await session.begin()
            await session.execute(count)  # the read: a WAL snapshot
            async with session_factory(other).begin() as writer:
                await repo.upsert_bars(writer, [_bar("MSFT", 0)])
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                await repo.upsert_bars(session, [_bar("AAPL", 0)])
            await session.rollback()

        async def other_writes() -> None:
            async with session_factory(other).begin() as writer:
                await repo.upsert_bars(writer, [_bar("MSFT", 1)])

        async with session_factory(immediate).begin() as session:
            await session.execute(count)
            waiting = asyncio.create_task(other_writes())  # blocks on the lock meanwhile
            await asyncio.sleep(0.05)
            await repo.upsert_bars(session, [_bar("AAPL", 1)])
        await waiting
        async with other.connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT symbol FROM bars")).scalars().all()
    finally:
        for engine in (other, deferred, immediate):
            await engine.dispose()
    assert sorted(rows) == ["AAPL", "MSFT", "MSFT"]


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = engine_from_url(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
                await connection.exec_driver_sql("CREATE TABLE u (y INTEGER)")
                raise RuntimeError("fail inside the transaction")
        except RuntimeError:
            pass
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
            count = (await connection.exec_driver_sql("SELECT count(*) FROM t")).scalar()
    finally:
        await engine.dispose()
    assert tables == ["t"]  # the DDL was rolled back too: migrations are all or nothing
    assert count == 0


async def test_an_autocommit_statement_is_committed_before_its_session_ends(
    database_url: str,
) -> None:
    """`autocommit`: no transaction around the statements, so a batch's upsert is stored
    (and SQLite's write lock free) as soon as it returns, and a failure after it in the
    same block takes nothing back; each page of 1,000 rows is one atomic statement."""
    engine, other = engine_from_url(database_url), engine_from_url(database_url)
    count = sa.text("SELECT count(*) FROM bars")
    seen: list[int] = []

    async def write_then_fail() -> None:
        async with session_factory(autocommit(engine)).begin() as session:
            await repo.upsert_bars(session, [_bar("AAPL", d) for d in range(1_500)])
            async with other.connect() as reader:
                seen.append((await reader.execute(count)).scalar_one())
            async with session_factory(other).begin() as writer:  # the lock is free
                await asyncio.wait_for(repo.upsert_bars(writer, [_bar("MSFT", 0)]), 5.0)
            raise RuntimeError("after the write")

    try:
        with pytest.raises(RuntimeError, match="after the write"):
            await write_then_fail()
        async with other.connect() as reader:
            kept = (await reader.execute(count)).scalar()
    finally:
        for e in (engine, other):
            await e.dispose()
    assert seen == [1_500]  # two pages, two statements, each committed by itself
    assert kept == 1_501
