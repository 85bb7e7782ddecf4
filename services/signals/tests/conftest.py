"""Fixtures of the signals tests: a config file, a SQLite URL, settings, and DB reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import engine_from_url, migrate_async, session_factory

from .helpers import write_config


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "swing_config.json")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'signals.db'}"


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate_async(sqlite_url)
    engine = engine_from_url(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()
