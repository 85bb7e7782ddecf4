"""The pipeline benchmark's platform: our own nats-server, a fresh database, the scanner,
signals, ml and portfolio services as `swingflow up` runs them, and what they have done.

    async with Platform.start(work_dir, "sqlite", history, env) as platform:
        await platform.wait_drained(60)
        done = await platform.progress()

The database is SQLite in `work_dir` or a throw-away PostgreSQL database (created on the
server at `BENCH_DATABASE_URL`, default the test suite's, and dropped at the end). Before
any service starts, `history` (bars) is stored in the database, as a platform that has
been running holds it: the scanner loads it when it starts, so the measured days find
their indicators warm without replaying a year through every service first.
"""

from __future__ import annotations

import asyncio
import os
import urllib.request
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.engine import make_url

from swingflow.up.plan import make_plan
from swingflow.up.status import health_of
from swingflow.up.supervisor import Supervisor
from swingflow_common.bus import NatsServer
from swingflow_common.db import engine_from_url, migrate_async, repository, session_factory
from swingflow_common.db.engine import normalize_url
from swingflow_common.messages import Bar

SERVICES = ("ml", "portfolio", "signals", "scanner")
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Upstream first: a service publishes what it made before it acks what it took.
STREAMS = ("MARKET", "SIGNALS", "PORTFOLIO")
SEED_CHUNK = 5_000


class PlatformError(RuntimeError):
    """The platform could not start or did not finish in time (with the logs' tails)."""


@dataclass(frozen=True)
class ConsumerState:
    """One durable consumer: what is left, and when it last acked (server clock)."""

    stream: str
    name: str
    subject: str  # its filter ("" for the whole stream)
    left: int  # pending + delivered but not acked
    acked_through: int  # stream sequence
    last_ack: datetime | None


# -- the database -------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin_execute(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def database(backend: str, work_dir: Path) -> AsyncIterator[str]:
    """A fresh, migrated database's URL: SQLite in `work_dir`, or PostgreSQL (dropped after)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{work_dir / 'bench.db'}"
        await migrate_async(url)
        yield url
        return
    admin = os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES)
    name = f"swingflow_bench_{uuid.uuid4().hex[:10]}"
    await admin_execute(admin, f'CREATE DATABASE "{name}"')
    url = normalize_url(make_url(admin).set(database=name)).render_as_string(hide_password=False)
    try:
        await migrate_async(url)
        yield url
    finally:
        await admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(url: str, bars: Sequence[Bar]) -> None:
    """Store `bars` (and their symbols) as the scanner would have."""
    engine = engine_from_url(url)
    try:
        sessions = session_factory(engine)
        for i in range(0, len(bars), SEED_CHUNK):
            async with sessions.begin() as session:
                await repository.upsert_bars(session, bars[i : i + SEED_CHUNK])
    finally:
        await engine.dispose()


# -- the services ---------------------------------------------------------------------------


def scrape(port: int) -> dict[str, float]:
    """A service's metrics as {`name{labels}`: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5.0) as r:
        text = r.read().decode()
    pairs = (ln.rpartition(" ") for ln in text.splitlines() if ln and not ln.startswith("#"))
    return {name: float(value) for name, _, value in pairs}


@dataclass
class Platform:
    nc: Client
    js: JetStreamContext
    supervisor: Supervisor
    database_url: str

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        work_dir: Path,
        backend: str,
        history: Sequence[Bar],
        env: dict[str, str],
        ready_within: float = 300.0,  # a loaded 2-core machine: the scanner loads a year first
    ) -> AsyncIterator[Platform]:
        """NATS, the database (with `history`), the services (with `env`), all ready."""
        server = NatsServer(store_dir=work_dir / "nats")
        await server.astart()
        try:
            async with database(backend, work_dir) as url:
                await seed(url, history)
                plan = make_plan(server.url, url, work_dir / "var", False, env)
                supervisor = Supervisor(tuple(p for p in plan.processes if p.name in SERVICES))
                nc = await nats.connect(server.url, name="swingflow-bench")
                supervisor.start_all()
                platform = cls(nc, nc.jetstream(), supervisor, url)
                try:
                    await platform._wait_ready(ready_within)
                    yield platform
                finally:
                    await asyncio.to_thread(supervisor.stop_all)
                    with suppress(Exception):
                        await nc.drain()
        finally:
            server.stop()

    def logs(self) -> str:
        tails = []
        for child in self.supervisor.children:
            path = child.spec.log_file
            text = path.read_text(errors="replace")[-2_000:] if path.exists() else ""
            tails.append(f"--- {child.spec.name}\n{text}")
        return "\n".join(tails)

    async def _wait_ready(self, within: float) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            if any(c.process is not None and not c.alive for c in self.supervisor.children):
                raise PlatformError(f"a service exited while starting\n{self.logs()}")
            states = await asyncio.gather(
                *(asyncio.to_thread(health_of, c) for c in self.supervisor.children)
            )
            if all(s.state == "ready" for s in states):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise PlatformError(f"services not ready after {within} s\n{self.logs()}")
            await asyncio.sleep(0.2)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each service process has used so far (Linux /proc;
        empty elsewhere)."""
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for child in self.supervisor.children:
            if child.process is None:
                continue
            try:
                fields = Path(f"/proc/{child.process.pid}/stat").read_text().rsplit(")", 1)[1]
            except OSError:
                return {}
            utime, stime = fields.split()[11:13]  # fields 14 and 15 of stat(5)
            used[child.spec.name] = (int(utime) + int(stime)) / tick
        return used

    def metrics(self, name: str) -> dict[str, float]:
        child = next(c for c in self.supervisor.children if c.spec.name == name)
        return scrape(child.spec.metrics_port)

    async def consumers(self) -> list[ConsumerState]:
        """Every durable consumer of the pipeline's streams, upstream first."""
        found = []
        for stream in STREAMS:
            try:
                infos = await self.js.consumers_info(stream)
            except NotFoundError:
                continue
            for i in sorted(infos, key=lambda i: i.name):
                floor = i.ack_floor
                found.append(
                    ConsumerState(
                        stream,
                        i.name,
                        i.config.filter_subject or "",
                        (i.num_pending or 0) + (i.num_ack_pending or 0),
                        floor.stream_seq if floor else 0,
                        floor.last_active if floor else None,
                    )
                )
        return found

    async def wait_drained(self, within: float, every: float = 0.02) -> list[ConsumerState]:
        """Poll until no consumer has anything left; their states at that moment."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            states = await self.consumers()
            if states and not any(s.left for s in states):
                return states
            if asyncio.get_running_loop().time() > deadline:
                raise PlatformError(f"not drained after {within} s: {states}\n{self.logs()}")
            await asyncio.sleep(every)

    async def wait_metric(self, service: str, name: str, value: float, within: float) -> None:
        """Poll `service`'s metrics until `name` (unlabelled) reads `value`."""
        deadline = asyncio.get_running_loop().time() + within
        while (seen := await asyncio.to_thread(self.metrics, service)).get(name) != value:
            if asyncio.get_running_loop().time() > deadline:
                raise PlatformError(f"{service}: {name} is {seen.get(name)}, not {value}, "
                                    f"after {within} s\n{self.logs()}")  # fmt: skip
            await asyncio.sleep(0.05)

    async def last_seq(self, stream: str) -> int:
        info = await self.js.stream_info(stream)
        return int(info.state.last_seq)

    async def stored_at(self, stream: str, seq: int) -> datetime:
        """When the server stored message `seq` of `stream` (its own clock)."""
        msg = await self.js.get_msg(stream, seq)
        if msg.time is None:
            raise PlatformError(f"{stream} #{seq} has no time")
        return msg.time
