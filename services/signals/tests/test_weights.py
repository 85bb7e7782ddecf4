"""Weights without a restart: an update applies to candidates judged after it, an invalid one
is dead-lettered and changes nothing, and at start the bucket's weights win when newer."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from faststream.nats import TestApp
from nats.js import JetStreamContext
from signals_helpers import candidate, dead_letters, judged
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams, publish
from swingflow_common.config import ConfigError, StrategyConfig
from swingflow_common.messages import WeightsUpdated
from swingflow_common.testing import eventually
from swingflow_signals.app import build_service
from swingflow_signals.settings import Settings
from swingflow_signals.weights import Weights, stored_is_newer

Sessions = async_sessionmaker[AsyncSession]
DEFAULT = StrategyConfig().weights.as_dict()
HEAVY_ML = {"base_signal": 0.05, "confirmation": 0.05, "ml_confidence": 0.85, "entry_timing": 0.05}


def update(weights: dict[str, float], ts: datetime | None = None) -> WeightsUpdated:
    return WeightsUpdated.model_validate(
        {"weights": weights, "source": "test", "ts_event": ts or datetime.now(UTC)}
    )


def settings(nats_url: str, sqlite_url: str, config_path: Path) -> Settings:
    return Settings(nats_url=nats_url, database_url=sqlite_url, swingflow_config=config_path,
                    fetch_timeout=0.1)  # fmt: skip


def test_weights_apply_validates_like_the_config_file() -> None:
    weights = Weights(StrategyConfig())

    weights.apply(update(HEAVY_ML))
    assert weights.config.weights.as_dict() == HEAVY_ML
    assert weights.source == "test"

    with pytest.raises(ConfigError, match="sum to 1"):
        weights.apply(update({**HEAVY_ML, "ml_confidence": 0.95}))
    assert weights.config.weights.as_dict() == HEAVY_ML


def test_stored_weights_win_only_when_newer_than_the_file() -> None:
    written = datetime(2024, 5, 1, tzinfo=UTC)

    assert stored_is_newer(update(HEAVY_ML, written + timedelta(seconds=1)), written)
    assert not stored_is_newer(update(HEAVY_ML, written - timedelta(days=1)), written)
    assert stored_is_newer(update(HEAVY_ML), None)


async def test_a_weights_update_applies_to_candidates_judged_after_it(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    service = build_service(settings(nats_url, sqlite_url, config_path))
    client = await nats.connect(nats_url)
    before, after = candidate("AAPL"), candidate("MSFT")

    async def stored(n: int) -> bool:
        return len(await judged(sqlite_sessions)) == n

    async with TestApp(service.app):
        await publish(js, subjects.candidates("AAPL"), before)
        await eventually(lambda: stored(1))
        await client.publish(
            subjects.CONFIG_WEIGHTS_UPDATED, update(HEAVY_ML).model_dump_json().encode()
        )
        await eventually(lambda: service.weights.config.weights.as_dict() == HEAVY_ML)
        await publish(js, subjects.candidates("MSFT"), after)
        await eventually(lambda: stored(2))
        rows = await judged(sqlite_sessions)
    await client.drain()

    old, new = rows[before.id], rows[after.id]
    assert old.weights == DEFAULT
    assert new.weights == HEAVY_ML
    scores = {s["stage"]: s["score"] for s in new.stages}
    assert new.total == pytest.approx(sum(HEAVY_ML[k] * scores[k] for k in HEAVY_ML), abs=1e-6)
    assert (old.status, new.status, new.rejected_by) == ("confirmed", "rejected", "threshold")


async def test_an_invalid_weights_update_is_dead_lettered_and_the_old_weights_stay(
    js: JetStreamContext, nats_url: str, sqlite_url: str, config_path: Path
) -> None:
    service = build_service(settings(nats_url, sqlite_url, config_path))
    client = await nats.connect(nats_url)
    bad = update({**HEAVY_ML, "ml_confidence": 0.95}).model_dump_json().encode()

    async def one_letter() -> bool:
        return len(await dead_letters(js, "signals")) == 1

    async with TestApp(service.app):
        await client.publish(subjects.CONFIG_WEIGHTS_UPDATED, bad)
        await eventually(one_letter)
        (letter,) = await dead_letters(js, "signals")
        await client.publish(
            subjects.CONFIG_WEIGHTS_UPDATED, update(HEAVY_ML).model_dump_json().encode()
        )
        await eventually(lambda: service.weights.config.weights.as_dict() == HEAVY_ML)
    await client.drain()

    assert letter.subject == subjects.CONFIG_WEIGHTS_UPDATED
    assert "sum to 1" in letter.reason
    assert "old ones stay" in letter.reason


@pytest.mark.parametrize(("age", "expected"), [(timedelta(hours=1), HEAVY_ML),
                                               (timedelta(hours=-1), DEFAULT)])  # fmt: skip
async def test_at_start_the_buckets_weights_win_when_newer_than_the_file(
    js: JetStreamContext, nats_url: str, sqlite_url: str, config_path: Path,
    age: timedelta, expected: dict[str, float],
) -> None:  # fmt: skip
    written = datetime(2024, 5, 1, tzinfo=UTC)
    os.utime(config_path, (written.timestamp(), written.timestamp()))
    await ensure_streams(js)
    kv = await js.key_value(subjects.WEIGHTS_BUCKET)
    await kv.put("current", update(HEAVY_ML, written + age).model_dump_json().encode())
    service = build_service(settings(nats_url, sqlite_url, config_path))

    async with TestApp(service.app):
        in_force = service.weights.config.weights.as_dict()

    assert in_force == expected
