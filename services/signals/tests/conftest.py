"""Fixtures of the signals tests: a config file, a SQLite URL and its sessions.

The suite runs with `--import-mode=importlib`, which leaves sys.path alone, so this folder
is put on it here, for the test modules' `signals_helpers`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import engine_from_url, migrate_async, session_factory

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    from signals_helpers import write_config

    path: Path = write_config(tmp_path / "swing_config.json")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'signals.db'}"


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate_async(sqlite_url)
    engine = engine_from_url(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()
