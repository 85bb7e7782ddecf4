"""END TO END: `swingflow up` stopped with Ctrl-C mid-replay and started again carries on
where it stopped: the feed resumes after its cursor and publishes no day twice, and the
restarted services finish with exactly the candidates and confirmations the pure
pipeline finds on the whole dataset, none lost and none doubled.

This runs the command itself, twice, on one `--var` folder: its own nats-server (the
JetStream store, hence the cursor, in VAR/nats), SQLite in VAR, every service, the feed
replaying a small synthetic dataset.
"""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from pipeline_e2e_helpers import (
    UpRun,
    drained,
    feed_runs,
    poll_until,
    start_up,
    strategy_without_models,
    stream_count,
    stream_ids,
)

from swingflow_common import subjects
from swingflow_common.bus import free_port
from swingflow_common.data import load
from swingflow_common.pipeline import evaluate
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.testing import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DATASET = "synthetic:6x300:3"  # 6 symbols x 300 sessions
WARMUP_DAYS = 100  # published as fast as the scanner takes them ...
DAYS_PER_SECOND = 20  # ... then paced, so the first run is stopped mid-way
STOP_AFTER_DAYS = 150
WITHIN_S = 90.0


def console_of(run: UpRun) -> str:
    text: str = run.console.read_text(errors="replace")
    return text


async def started(run: UpRun) -> str:
    """The URL of the nats-server that run started, once it says so."""
    await eventually(lambda: run.nats_url() is not None, within=60)
    url: str | None = run.nats_url()
    assert url is not None
    return url


async def test_a_second_swingflow_up_resumes_the_replay_where_the_first_was_stopped(
    tmp_path: Path,
) -> None:
    data = load(DATASET)
    n_days, n_symbols = len(data.dates), len(data.bars)
    total_bars = sum(len(frame) for frame in data.bars.values())
    assert total_bars == n_days * n_symbols  # every symbol on every day: days x symbols
    config_path, config = strategy_without_models(tmp_path)
    candidates = candidates_over_history(data, config)
    confirmed = [c.id for c in candidates if evaluate(c, config).confirmed]
    assert confirmed, "the dataset gives no confirmed signal: choose another seed"
    var = tmp_path / "var"
    env = {
        "SWINGFLOW_CONFIG": str(config_path),
        "FEED_DATASET": DATASET,
        "FEED_WARMUP_DAYS": str(WARMUP_DAYS),
        "FEED_DAYS_PER_SECOND": str(DAYS_PER_SECOND),
        "FEED_PROGRESS_EVERY": "1",
        "GATEWAY_PORT": str(free_port()),
    }

    first = start_up(var, env)
    try:
        nc = await nats.connect(await started(first))
        js = nc.jetstream()

        async def mid_way() -> bool:
            try:
                bars: int = await stream_count(js, "MARKET", subjects.BARS_ALL)
            except Exception:  # the stream is not there before the services made it
                return False
            return bars >= STOP_AFTER_DAYS * n_symbols

        await poll_until(mid_way, WITHIN_S, lambda: console_of(first))
        await nc.close()
    finally:
        first_code = first.stop()
    assert first_code == 0, console_of(first)
    (run1,) = feed_runs(var)
    published_first = [e["days_done"] for e in run1 if e.get("msg") == "replay progress"]
    assert STOP_AFTER_DAYS <= len(published_first) < n_days, "stopped before the end"
    assert published_first == list(range(1, len(published_first) + 1))

    second = start_up(var, {**env, "FEED_DAYS_PER_SECOND": "0"})  # the rest at full speed
    try:
        nc = await nats.connect(await started(second))
        js = nc.jetstream()

        async def finished() -> bool:
            try:
                bars: int = await stream_count(js, "MARKET", subjects.BARS_ALL)
            except Exception:
                return False
            return bars >= total_bars and await drained(js)

        await poll_until(finished, WITHIN_S, lambda: console_of(second))
        bars = await stream_count(js, "MARKET", subjects.BARS_ALL)
        candidate_ids = await stream_ids(js, "SIGNALS", subjects.CANDIDATES_ALL)
        confirmed_ids = await stream_ids(js, "SIGNALS", subjects.CONFIRMED_ALL)
        await nc.close()
    finally:
        second_code = second.stop()
    assert second_code == 0, console_of(second)

    _, run2 = feed_runs(var)
    (resumed,) = [e for e in run2 if e.get("msg") == "replay starting"]
    assert resumed["first_day"] == len(published_first)  # right after the cursor
    progress = [e for e in run2 if e.get("msg") == "replay progress"]
    assert [e["days_done"] for e in progress] == list(range(len(published_first) + 1, n_days + 1))
    assert sum(e["duplicates"] for e in progress) == 0  # not one bar sent again
    assert bars == total_bars
    assert sorted(candidate_ids) == sorted(c.id for c in candidates)  # none lost, none doubled
    assert sorted(confirmed_ids) == sorted(confirmed)
