"""Async engines and sessions for SQLite (embedded default) and PostgreSQL (asyncpg).

SQLite is set up so several processes (every service of `swingflow up`) can share one
file: WAL journal (readers never block the writer), a 30-second busy timeout (a writer
waits for the lock instead of failing at once), enforced foreign keys, and transactions
that include DDL, so a migration is all or nothing. `synchronous=NORMAL`, SQLite's
recommended setting with WAL: a commit no longer waits for an fsync of the log (only a
checkpoint does), which shortens the time each writer holds the one write lock. A
committed transaction still survives a crash of the process; a power cut or an OS crash
may roll back the last ones (nats-server's file store, flushed every few minutes by
default, makes the same trade), so use PostgreSQL where that matters.

PostgreSQL engines check a pooled connection before handing it out (`pool_pre_ping`), so
a restarted server costs nobody an error. On asyncpg that check is a transaction of its
own (three round trips per checkout); the pipeline's services, which retry a failed batch
anyway, pass `pool_pre_ping=False` to keep it off their hot path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
AUTOCOMMIT = "AUTOCOMMIT"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def normalize_url(url: str | URL) -> URL:
    """The URL with its async driver: `sqlite://` -> aiosqlite, `postgresql://` -> asyncpg."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN skips DDL; we emit BEGIN ourselves (`_on_begin`) so a
    # migration is one transaction on SQLite as on PostgreSQL (SQLAlchemy's aiosqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _autocommit(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == AUTOCOMMIT


def _on_begin(connection: Any) -> None:
    if not _autocommit(connection):  # `autocommit`: no transaction to open
        connection.exec_driver_sql("BEGIN")


def _on_begin_immediate(connection: Any) -> None:
    if not _autocommit(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def engine_from_url(
    url: str | URL, *, immediate: bool = False, **engine_options: Any
) -> AsyncEngine:
    """An AsyncEngine for `url`; for a SQLite file, its folder is created first.

    `immediate=True`: each SQLite transaction takes the write lock as it begins (waiting up
    to the busy timeout), for a unit of work that reads and then writes while other
    processes write. A plain (deferred) one that read first fails at its first write with
    "database is locked" if another writer committed since its read, whatever the busy
    timeout (WAL keeps its snapshot). No effect on PostgreSQL.
    """
    parsed = normalize_url(url)
    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "postgresql":
        engine_options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(parsed, **engine_options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_begin_immediate if immediate else _on_begin)
    return engine


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """`engine` (the same pool) with every statement committed on its own, for a service
    whose each unit of work is one statement: no BEGIN and no COMMIT, so on PostgreSQL one
    round trip instead of three, and on SQLite the write lock is held only while the
    statement runs, not across the hops to aiosqlite's thread between it and the COMMIT
    (which made the other services' writers queue, and sleep in SQLite's busy handler).
    A statement is atomic; two statements are two commits.
    """
    return engine.execution_options(isolation_level=AUTOCOMMIT)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay usable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
