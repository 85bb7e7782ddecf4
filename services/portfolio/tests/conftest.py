"""Fixtures of the portfolio tests: a config file with readable costs and a SQLite URL.

The suite runs with `--import-mode=importlib`, which leaves sys.path alone, so this folder
is put on it here, for the test modules' `portfolio_helpers`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    from portfolio_helpers import write_config

    path: Path = write_config(tmp_path / "swing_config.json")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'portfolio.db'}"
