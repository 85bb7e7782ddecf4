"""The gateway leaves its start-up heap out of the garbage collector's full passes while
it runs (a full pass over it stopped the loop ~150 ms), and hands it back at shutdown."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from swingflow_common.db import migrate_async
from swingflow_gateway.app import create_app

from .helpers import serve

pytestmark = pytest.mark.integration


async def test_the_start_up_heap_is_frozen_while_serving(
    tmp_path: Path, make_settings: Any
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"
    await migrate_async(url)
    gc.unfreeze()
    async with serve(create_app(make_settings(url), warm_up=False)) as client:
        frozen = gc.get_freeze_count()
        assert (await client.get("/healthz")).status_code == 200
    assert frozen > 10_000  # the imported libraries, at least
    assert gc.get_freeze_count() == 0
