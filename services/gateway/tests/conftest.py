"""Gateway test fixtures: `make_settings` builds Settings on a test database and a copy of
the strategy config, with the test token, no migration (the fixtures migrate) and no
dashboard build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swingflow_gateway.settings import Settings

from .helpers import CLOSED_NATS, TOKEN

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def make_settings(tmp_path: Path) -> Any:
    def make(database_url: str, nats_url: str = CLOSED_NATS, **overrides: Any) -> Settings:
        config = tmp_path / "swing_config.json"
        if not config.exists():
            config.write_text((ROOT / "swing_config.json").read_text())
        values: dict[str, Any] = {
            "database_url": database_url,
            "nats_url": nats_url,
            "swingflow_config": config,
            "static_dir": tmp_path / "no-dist",
            "api_token": TOKEN,
            "migrate": False,
        }
        values.update(overrides)
        return Settings(**values)

    return make
