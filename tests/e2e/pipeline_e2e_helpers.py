"""Helpers of the pipeline's end-to-end tests: the services as `swingflow up` runs them,
bars published the way another system would, and what the platform did, read back.

Nothing here calls into a service's code: the services run as their own processes
(`swingflow service NAME`, planned by `swingflow.up.plan` and run by its `Supervisor`), and
the tests see them only through NATS, their metrics endpoints and the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from swingflow.up.plan import make_plan
from swingflow.up.status import health_of
from swingflow.up.supervisor import Supervisor
from swingflow_common import subjects
from swingflow_common.config import StrategyConfig, load_config
from swingflow_common.data import Dataset

REPO = Path(__file__).resolve().parents[2]
PIPELINE = ("ml", "portfolio", "signals", "scanner")  # no feed: the test is the market
# In the pipeline's order: a service publishes what it made before it acks what it took,
# so once the streams upstream are drained, everything they caused is downstream already.
DRAIN_ORDER = ("MARKET", "SIGNALS", "PORTFOLIO")
LOG_TAIL_CHARS = 3_000


def strategy_without_models(tmp_path: Path) -> tuple[Path, StrategyConfig]:
    """The repository's strategy, with its model folder pointed at an empty one, so the
    ML stage stays neutral whatever models a developer trained under var/."""
    config = load_config(REPO / "swing_config.json")
    config = config.model_copy(update={"ml_model_path": str(tmp_path / "no-models")})
    path = tmp_path / "swing_config.json"
    path.write_text(config.model_dump_json(indent=2))
    return path, load_config(path)


async def poll_until(
    check: Callable[[], Awaitable[bool]],
    within: float,
    what: Callable[[], str],
    every: float = 0.05,
) -> None:
    """Poll `check` until true; after `within` seconds fail with `what()` (say, log tails)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"still false after {within} s\n{what()}")
        await asyncio.sleep(every)


def log_tails(supervisor: Supervisor) -> str:
    """The end of every service's log, to say why a wait failed."""
    parts = []
    for child in supervisor.children:
        path = child.spec.log_file
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        code = child.process.poll() if child.process is not None else None
        parts.append(f"--- {child.spec.name} (exit {code}) ---\n{text[-LOG_TAIL_CHARS:]}")
    return "\n".join(parts)


@asynccontextmanager
async def running_services(
    nats_url: str,
    database_url: str,
    var_dir: Path,
    names: Iterable[str],
    env: dict[str, str],
    ready_within: float = 120.0,
) -> AsyncIterator[Supervisor]:
    """The named services as `swingflow up` runs them, each ready; stopped at the end."""
    wanted = set(names)
    plan = make_plan(nats_url, database_url, var_dir, with_feed="feed" in wanted, extra_env=env)
    supervisor = Supervisor(tuple(p for p in plan.processes if p.name in wanted))
    supervisor.start_all()
    try:

        async def all_ready() -> bool:
            states = await asyncio.gather(
                *(asyncio.to_thread(health_of, c) for c in supervisor.children)
            )
            if any(not c.alive for c in supervisor.children):
                raise AssertionError(f"a service exited while starting\n{log_tails(supervisor)}")
            return all(h.state == "ready" for h in states)

        await poll_until(all_ready, ready_within, lambda: log_tails(supervisor), every=0.2)
        yield supervisor
    finally:
        await asyncio.to_thread(supervisor.stop_all)


def exit_codes(supervisor: Supervisor) -> dict[str, int | None]:
    """Each service's exit code after `stop_all` (None: still running)."""
    return {
        c.spec.name: (c.process.poll() if c.process is not None else None)
        for c in supervisor.children
    }


def scrape(port: int) -> dict[str, float]:
    """A service's metrics as {`name{labels}`: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2.0) as r:
        text = r.read().decode()
    pairs = (ln.rpartition(" ") for ln in text.splitlines() if ln and not ln.startswith("#"))
    return {name: float(value) for name, _, value in pairs}


def metrics_of(supervisor: Supervisor, name: str) -> dict[str, float]:
    child = next(c for c in supervisor.children if c.spec.name == name)
    return scrape(child.spec.metrics_port)


# -- the market: bars as another system publishes them ----------------------------------


def bar_json(symbol: str, ts: pd.Timestamp, row: tuple[float, ...]) -> bytes:
    """A Bar exactly as DESIGN.md shows it, written by hand: no swingflow model involved."""
    o, h, low, c, v = row
    return json.dumps(
        {
            "type": "bar",
            "schema_version": 1,
            "symbol": symbol,
            "interval": "1d",
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": o,
            "high": h,
            "low": low,
            "close": c,
            "volume": v,
        }
    ).encode()


@dataclass(frozen=True)
class MarketDay:
    """One session's bars, (symbol, JSON) in symbol order."""

    ts: pd.Timestamp
    bars: tuple[tuple[str, bytes], ...]


def market_days(dataset: Dataset) -> list[MarketDay]:
    """Every bar of `dataset`, grouped by session, sessions in order."""
    by_day: dict[pd.Timestamp, list[tuple[str, bytes]]] = {}
    for symbol in sorted(dataset.bars):
        frame = dataset.bars[symbol][["open", "high", "low", "close", "volume"]]
        for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            by_day.setdefault(ts, []).append((symbol, bar_json(symbol, ts, tuple(row))))
    return [MarketDay(ts, tuple(bars)) for ts, bars in sorted(by_day.items())]


async def publish_days(js: JetStreamContext, days: Iterable[MarketDay]) -> int:
    """Plain nats-py JetStream publishes, a day at a time (all acks awaited per day)."""
    count = 0
    for day in days:
        futures = [await js.publish_async(subjects.bars(s), data) for s, data in day.bars]
        await asyncio.gather(*futures)
        count += len(futures)
    return count


# -- what the platform did ----------------------------------------------------------------


async def drained(js: JetStreamContext) -> bool:
    """True when every durable consumer of the pipeline's streams has nothing left: none
    pending, none in flight. Read upstream first (see DRAIN_ORDER)."""
    for stream in DRAIN_ORDER:
        try:
            infos = await js.consumers_info(stream)
        except NotFoundError:
            continue
        if any(i.num_pending or i.num_ack_pending for i in infos):
            return False
    return True


async def stream_count(js: JetStreamContext, stream: str, subject: str) -> int:
    info = await js.stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


# -- `swingflow up` itself, as a user runs it ---------------------------------------------

UP_NATS_LINE = re.compile(r"nats-server \(JetStream\) started at (nats://[^\s,]+)")


@dataclass(frozen=True)
class UpRun:
    """One `swingflow up` process and the file its console goes to."""

    process: subprocess.Popen[bytes]
    console: Path

    def nats_url(self) -> str | None:
        """The URL of the nats-server it started, once its console has said it."""
        found = UP_NATS_LINE.search(self.console.read_text(errors="replace"))
        return found.group(1) if found else None

    def stop(self, within: float = 60.0) -> int:
        """Ctrl-C, as a user stops it; returns its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(within)


def start_up(var_dir: Path, env: dict[str, str]) -> UpRun:
    """`swingflow up --var VAR_DIR` in the background, its console in VAR_DIR/../up-N.out.

    NATS_URL and DATABASE_URL are left out of its environment, so it starts its own
    nats-server storing in VAR_DIR/nats and uses SQLite in VAR_DIR: `make run` on one machine.
    """
    base = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    console = var_dir.parent / f"up-{len(list(var_dir.parent.glob('up-*.out'))) + 1}.out"
    with console.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "swingflow", "up", "--var", str(var_dir)],
            env={**base, "COLUMNS": "400", **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return UpRun(process, console)


def feed_runs(var_dir: Path) -> list[list[dict[str, Any]]]:
    """The feed's JSON log lines, one list per run (a run starts at 'replay starting')."""
    runs: list[list[dict[str, Any]]] = []
    path = var_dir / "log" / "feed.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("msg") == "replay starting":
            runs.append([])
        if runs:
            runs[-1].append(entry)
    return runs


async def stream_ids(js: JetStreamContext, stream: str, subject: str) -> list[str]:
    """The `id` of every message stored on `subject`, in stream order (doubles kept)."""
    expected = await stream_count(js, stream, subject)
    sub = await js.pull_subscribe(subject, stream=stream)
    ids: list[str] = []
    try:
        while len(ids) < expected:
            for msg in await sub.fetch(min(1_000, expected - len(ids)), timeout=5):
                ids.append(str(json.loads(msg.data)["id"]))
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return ids
