"""Alembic migrations run from code on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from swingflow_common.db import Base, alembic_config, engine_from_url, migrate, migrate_async
from swingflow_common.testing import run_async

EXPECTED_TABLES = {
    "symbols", "bars", "signals", "allocations", "trades", "fills", "positions",
    "portfolio_snapshots", "performance_metrics", "ml_models", "backtest_runs",
    "backtest_trades",
}  # fmt: skip


async def inspect(url: str) -> dict[str, Any]:
    engine = engine_from_url(url)
    try:
        async with engine.connect() as connection:

            def read(sync: sa.Connection) -> dict[str, Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return {
                    "tables": set(sa.inspect(sync).get_table_names()),
                    "revision": context.get_current_revision(),
                    "diff": compare_metadata(context, Base.metadata),
                }

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrate_creates_every_table_at_head(blank_database_url: str) -> None:
    migrate(blank_database_url)

    state = run_async(lambda: inspect(blank_database_url))

    assert state["tables"] >= EXPECTED_TABLES
    assert state["revision"] == head() is not None


def test_migrating_twice_is_a_no_op(blank_database_url: str) -> None:
    migrate(blank_database_url)
    before = run_async(lambda: inspect(blank_database_url))
    migrate(blank_database_url)
    after = run_async(lambda: inspect(blank_database_url))
    assert before == after


def test_models_and_migrations_describe_the_same_schema(blank_database_url: str) -> None:
    migrate(blank_database_url)
    assert run_async(lambda: inspect(blank_database_url))["diff"] == []


async def test_migrate_async_works_inside_a_running_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(RuntimeError, match="migrate_async"):
        migrate(url)
    await migrate_async(url)
    assert (await inspect(url))["tables"] >= EXPECTED_TABLES


def test_sqlite_url_without_driver_gets_its_folder_and_the_async_driver(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'nested' / 'swingflow.db'}"
    migrate(url)
    assert (tmp_path / "var" / "nested" / "swingflow.db").is_file()
