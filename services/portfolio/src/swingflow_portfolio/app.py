"""The portfolio service's composition root: settings -> logs, metrics -> broker -> handlers.

    swingflow service portfolio

Sizes confirmed signals against the paper book and paper-trades them on the bars, until
SIGINT or SIGTERM (exit 0 on a clean stop; exit 3 if the lease was lost, so a supervisor
restarts it as a standby). The book lives in the database: a restart carries on from the
last committed state.

One book, one active copy. A copy starts consuming only once it holds the book's lease
(`lease.py`); any other copy waits as a hot standby (connected, migrated, metrics up,
`swingflow_service_ready` 0) and takes over when the active one stops, at once after a
clean stop, within `PORTFOLIO_LEASE_TTL` seconds after a crash. Bars therefore reach the
book in order. Underneath, every change to the book locks its database row first, so even
the overlap of a handover can never lose an update.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field

import nats
from faststream import FastStream
from nats.aio.client import Client

from swingflow_common.bus import ensure_streams, jetstream, make_broker
from swingflow_common.bus.pull import BatchConsumer
from swingflow_common.config import ConfigError, load_config
from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.observability import (
    SERVICE_READY,
    MetricsServer,
    configure_logging,
    start_metrics_server,
)
from swingflow_common.settings import SettingsError, load_settings
from swingflow_portfolio import metrics
from swingflow_portfolio.handlers import (
    SERVICE,
    allocate_batch,
    apply_batch,
    bars_spec,
    signals_spec,
)
from swingflow_portfolio.lease import Lease
from swingflow_portfolio.ledger import Ledger
from swingflow_portfolio.settings import Settings

log = logging.getLogger("swingflow.portfolio")
LEASE_LOST_EXIT = 3


@dataclass
class PortfolioService:
    """The app, the ledger behind it, and its lease (once connected)."""

    app: FastStream
    ledger: Ledger
    lease: Lease | None = None
    lost: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_service(settings: Settings | None = None) -> PortfolioService:
    settings = settings or load_settings(Settings)
    configure_logging(settings.log_level, service=SERVICE)
    path = settings.swingflow_config
    config = load_config(None if str(path) == "swing_config.json" and not path.exists() else path)
    broker = make_broker(settings, SERVICE)
    # no pre-ping: a transaction of its own per checkout on asyncpg, and a batch that
    # meets a dropped connection is retried anyway (docs/services.md, performance)
    engine = engine_from_url(settings.database_url, pool_pre_ping=False)
    ledger = Ledger(broker, session_factory(engine), config.risk, settings.book_id)
    app = FastStream(broker)
    service = PortfolioService(app, ledger)
    served: list[MetricsServer] = []
    clients: list[Client] = []  # the lease's own connection outlives the broker's consumers
    consumers: list[BatchConsumer] = []

    def lost() -> None:
        service.lost = True
        SERVICE_READY.labels(SERVICE).set(0)
        metrics.LEADER.set(0)
        app.exit()

    @app.on_startup
    async def prepare() -> None:
        if settings.metrics_port:
            served.append(start_metrics_server(settings.metrics_port))
        await migrate_async(settings.database_url)
        await broker.connect()
        await ensure_streams(jetstream(broker))
        clients.append(await nats.connect(settings.nats_servers, name=f"swingflow-{SERVICE}-lease"))
        lease = service.lease = Lease(clients[0].jetstream(), f"portfolio-{settings.book_id}",
                                      settings.lease_ttl)  # fmt: skip
        if not await lease.try_acquire():
            log.info("standby: another copy holds the book; waiting", extra={"role": lease.role})
            await lease.acquire()
        metrics.LEADER.set(1)
        metrics.export(await ledger.read())
        service._tasks.append(asyncio.create_task(lease.keep(lost)))

    @app.after_startup
    async def ready() -> None:
        js = jetstream(broker)
        bars = BatchConsumer(js, bars_spec(settings),
                             lambda raws: apply_batch(broker, ledger, settings, raws),
                             name="bars", service=SERVICE)  # fmt: skip
        signals = BatchConsumer(js, signals_spec(settings),
                                lambda raws: allocate_batch(broker, ledger, raws),
                                name="signals", service=SERVICE)  # fmt: skip
        for consumer in (signals, bars):
            await consumer.start()
            consumers.append(consumer)
        SERVICE_READY.labels(SERVICE).set(1)

    @app.on_shutdown
    async def stopping() -> None:
        SERVICE_READY.labels(SERVICE).set(0)
        for consumer in consumers:
            await consumer.stop()  # the batch in hand finishes while the broker is still up
        for task in service._tasks:
            task.cancel()

    @app.after_shutdown
    async def close() -> None:  # the consumers have stopped: the standby may take over now
        if service.lease is not None:
            await service.lease.release()
        metrics.LEADER.set(0)
        for client in clients:
            await client.drain()
        await engine.dispose()
        for server in served:
            server.close()

    return service


def build_app(settings: Settings | None = None) -> FastStream:
    return build_service(settings).app


def main() -> None:
    """Run the portfolio service until SIGINT/SIGTERM; exit 2 on a bad environment or config."""
    try:
        service = build_service()
    except (SettingsError, ConfigError) as exc:
        print(f"portfolio: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    asyncio.run(service.app.run())
    if service.lost:
        raise SystemExit(LEASE_LOST_EXIT)
