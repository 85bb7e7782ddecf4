"""The `swingflow up` loop: NATS, migrations, the services, a live status, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import nats
from rich.console import Console
from rich.live import Live

from swingflow.up.plan import dashboard_url, make_plan
from swingflow.up.status import health_of, one_line, pipeline_counts, render
from swingflow.up.supervisor import Supervisor
from swingflow_common.bus import NatsServer, ensure_streams
from swingflow_common.db.migrate import migrate_async
from swingflow_common.settings import DEFAULT_DATABASE_URL

PLAIN_EVERY_S = 10.0


async def run_platform(var_dir: Path, with_feed: bool, console: Console) -> int:
    nats_url = os.environ.get("NATS_URL")
    own_server: NatsServer | None = None
    if not nats_url:
        own_server = NatsServer(store_dir=var_dir / "nats")
        await own_server.astart()
        nats_url = own_server.url
        console.print(f"nats-server (JetStream) started at {nats_url}, store {var_dir / 'nats'}")
    database_url = os.environ.get("DATABASE_URL") or default_database_url(var_dir)
    await migrate_async(database_url)
    console.print(f"database ready: {_redact(database_url)}")

    nc = await nats.connect(nats_url, name="swingflow-up")
    js = nc.jetstream()
    await ensure_streams(js)
    plan = make_plan(nats_url, database_url, var_dir, with_feed=with_feed)
    supervisor = Supervisor(plan.processes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    supervisor.start_all()
    console.print(
        f"services started; dashboard at {dashboard_url()} ; logs in "
        f"{var_dir / 'log'} ; Ctrl-C stops everything"
    )
    try:
        await _watch(supervisor, js, console, stop)
    finally:
        console.print("stopping services ...")
        await asyncio.to_thread(supervisor.stop_all)
        with contextlib.suppress(Exception):
            await nc.drain()
        if own_server is not None:
            own_server.stop()
        console.print("stopped cleanly; `make run` again resumes where this run stopped")
    return 1 if any(c.failed for c in supervisor.children) else 0


async def _watch(supervisor: Supervisor, js: object, console: Console, stop: asyncio.Event) -> None:
    header = "swingflow up: services and pipeline (Ctrl-C to stop)"
    last_plain = 0.0
    live = Live(console=console, refresh_per_second=2) if console.is_terminal else None
    with live if live is not None else contextlib.nullcontext():
        while not stop.is_set():
            supervisor.poll()
            health = list(
                await asyncio.gather(
                    *(asyncio.to_thread(health_of, c) for c in supervisor.children)
                )
            )
            counts = await pipeline_counts(js)  # type: ignore[arg-type]
            if live is not None:
                live.update(render(health, counts, header))
            elif loop_time() - last_plain >= PLAIN_EVERY_S:
                console.print(one_line(health, counts))
                last_plain = loop_time()
            if all(c.failed for c in supervisor.children):
                console.print("[red]every service failed; see the logs[/]")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


def default_database_url(var_dir: Path) -> str:
    """SQLite under the run's var folder (the same file as the services' default for `var`)."""
    if var_dir == Path("var"):
        return DEFAULT_DATABASE_URL
    return f"sqlite+aiosqlite:///{(var_dir / 'swingflow.db').resolve()}"


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def _redact(url: str) -> str:
    """The URL without its password, for the terminal."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
