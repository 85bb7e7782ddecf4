"""What the app holds while it runs: settings, database engine, NATS link, WebSocket hub.

`open_resources` is the app's lifespan body: it migrates the database (idempotent),
starts the NATS link (in the background: the REST API answers while NATS is down), the
hub's heartbeat and the analysis warm-up, and closes all of it in reverse on the way out.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_gateway import analysis
from swingflow_gateway.jobs import JobRunner, announcer
from swingflow_gateway.nats_link import NatsLink
from swingflow_gateway.settings import Settings
from swingflow_gateway.signal_counts import SignalCounts
from swingflow_gateway.ws.channels import SUBSCRIBED_SUBJECTS
from swingflow_gateway.ws.hub import Hub

log = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nats: NatsLink
    hub: Hub
    weights_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    jobs: JobRunner = field(kw_only=True)  # background jobs (POST /api/backtest), jobs.py
    signal_counts: SignalCounts = field(kw_only=True)  # GET /api/signals' total


def freeze_heap(*_: object) -> None:
    """Leave the objects alive now out of the garbage collector's full passes.

    After start-up the heap holds ~250,000 long-lived objects (the imported libraries;
    ~90,000 more after the analysis warm-up). A full collection walked all of them: about
    150 ms with the event loop stopped, once every ~1,000 requests of `GET /api/signals`,
    which put every request in flight past its 50 ms budget. Frozen, a full pass takes
    2-3 ms (measured on the same workload). `gc.unfreeze` at shutdown hands them back.
    No `gc.collect()` first: it would stop the loop that long once more, for the little
    cyclic garbage of start-up.
    """
    gc.freeze()


@asynccontextmanager
async def open_resources(settings: Settings, warm_up: bool = True) -> AsyncIterator[Resources]:
    """Open everything the routes need; close it all when the block ends."""
    if settings.migrate:
        await migrate_async(settings.database_url)
    engine = engine_from_url(settings.database_url)
    hub = Hub(settings.ws_heartbeat_seconds, settings.ws_send_timeout_seconds)
    sessions = session_factory(engine)
    counts = SignalCounts(sessions)
    link = NatsLink(
        settings.nats_servers, SUBSCRIBED_SUBJECTS, counts.watching(hub.publish_message)
    )
    link.start()
    hub.start()
    warming = asyncio.ensure_future(asyncio.to_thread(analysis.warm_up)) if warm_up else None
    if warming is not None:
        warming.add_done_callback(freeze_heap)  # what the warm-up built is long-lived too
    try:
        jobs = JobRunner(announcer(hub, link))
        freeze_heap()
        yield Resources(settings, engine, sessions, link, hub, jobs=jobs, signal_counts=counts)
        await jobs.close()
    finally:
        await counts.close()
        await hub.stop()
        await link.close()
        if warming is not None:
            with suppress(Exception):
                await warming
        await engine.dispose()
        gc.unfreeze()
