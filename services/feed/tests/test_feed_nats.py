"""The feed on a real nats-server: day order, resume from the cursor, dedup on republish,
backpressure against a consumer that falls behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from prometheus_client import REGISTRY

from swingflow_common import subjects
from swingflow_common.data import Dataset, synthetic_universe
from swingflow_common.messages import Bar, decode
from swingflow_common.testing import eventually
from swingflow_feed.app import run
from swingflow_feed.cursor import Cursor
from swingflow_feed.days import DaySource
from swingflow_feed.replay import ReplayOutcome
from swingflow_feed.settings import Settings

SOURCE = "synthetic:4x30:5"
pytestmark = pytest.mark.integration


def dataset() -> Dataset:
    return synthetic_universe(4, 30, seed=5)


def settings(nats_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "nats_url": nats_url,
        "dataset": SOURCE,
        "warmup_days": 1_000,
        "await_consumer_s": 0.0,
        "poll_interval_s": 0.01,
        **overrides,
    }
    return Settings.model_validate(values)


def metric(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@asynccontextmanager
async def feed(conf: Settings, source: DaySource) -> AsyncIterator[asyncio.Task[ReplayOutcome]]:
    """The feed running in this loop; stopped (as by SIGTERM) when the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(conf, stop, source))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def stored_bars(js: JetStreamContext) -> list[Bar]:
    info = await js.stream_info("MARKET")
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = decode((await js.get_msg("MARKET", seq)).data or b"")
        assert isinstance(message, Bar)
        out.append(message)
    return out


def cursor_at(
    js: JetStreamContext, day_index: int, source: DaySource
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            cursor = await (await Cursor.open(js, SOURCE)).load()
        except Exception:  # the bucket does not exist yet
            return False
        return bool(cursor == source.dates[day_index].to_pydatetime())

    return check


async def test_feed_publishes_every_bar_day_by_day_in_time_order(
    js: JetStreamContext, nats_url: str
) -> None:
    data = dataset()
    source = DaySource(data)
    async with feed(settings(nats_url), source) as task:
        await eventually(cursor_at(js, len(source) - 1, source))
    outcome = task.result()
    assert outcome.finished
    assert outcome.days == 30
    assert outcome.bars == 120
    bars = await stored_bars(js)
    assert [(b.ts, b.symbol) for b in bars] == sorted((b.ts, b.symbol) for b in bars)
    assert len({(b.ts, b.symbol) for b in bars}) == 120
    first = bars[0]
    row = data.bars[first.symbol].iloc[0]
    assert (first.open, first.close, first.volume) == (row["open"], row["close"], row["volume"])
    info = await js.stream_info("MARKET", subjects_filter=subjects.BARS_ALL)
    assert set(info.state.subjects or {}) == {subjects.bars(s) for s in data.bars}


async def test_a_second_run_resumes_after_the_cursor(js: JetStreamContext, nats_url: str) -> None:
    data = dataset()
    first_part = DaySource(data.slice(end=data.dates[9]))
    async with feed(settings(nats_url), first_part):
        await eventually(cursor_at(js, 9, first_part))
    whole = DaySource(data)
    duplicates_before = metric("swingflow_feed_bars_published_total", {"duplicate": "true"})
    async with feed(settings(nats_url), whole) as task:
        await eventually(cursor_at(js, len(whole) - 1, whole))
    outcome = task.result()
    assert (outcome.days, outcome.bars) == (20, 80)  # only the days after the cursor
    after = metric("swingflow_feed_bars_published_total", {"duplicate": "true"})
    assert after == duplicates_before
    assert len(await stored_bars(js)) == 120


async def test_republishing_the_replay_is_dropped_by_the_server(
    js: JetStreamContext, nats_url: str
) -> None:
    source = DaySource(dataset())
    async with feed(settings(nats_url), source):
        await eventually(cursor_at(js, len(source) - 1, source))
    count = (await js.stream_info("MARKET")).state.messages
    await (await Cursor.open(js, SOURCE)).reset()
    duplicates_before = metric("swingflow_feed_bars_published_total", {"duplicate": "true"})
    async with feed(settings(nats_url), source) as task:
        await eventually(cursor_at(js, len(source) - 1, source))
    assert task.result().bars == 120
    assert (await js.stream_info("MARKET")).state.messages == count == 120
    after = metric("swingflow_feed_bars_published_total", {"duplicate": "true"})
    assert after - duplicates_before == 120


async def test_the_feed_holds_back_while_the_scanner_is_behind(
    js: JetStreamContext, nats_url: str
) -> None:
    from swingflow_common.bus import ensure_streams

    await ensure_streams(js)
    durable = "scanner-0-of-1"
    config = ConsumerConfig(durable_name=durable, filter_subject=subjects.BARS_ALL)
    sub = await js.pull_subscribe(
        subjects.BARS_ALL, durable=durable, stream="MARKET", config=config
    )
    source = DaySource(dataset())  # 4 bars a day
    async with feed(settings(nats_url, max_pending=10), source):
        await eventually(lambda: metric("swingflow_feed_waiting_for_consumers") == 1.0)
        assert (await js.stream_info("MARKET")).state.messages == 12  # 3 days, then held
        for message in await sub.fetch(12, timeout=2):
            await message.ack()
        await eventually(cursor_at(js, 5, source))  # freed: three more days, held again
        await eventually(lambda: metric("swingflow_feed_waiting_for_consumers") == 1.0)
        assert (await js.stream_info("MARKET")).state.messages == 24
    await sub.unsubscribe()
