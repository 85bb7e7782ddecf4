"""The signals service's composition root: settings -> logs, metrics -> broker -> handlers.

    swingflow service signals

Reads the strategy from `SWINGFLOW_CONFIG`, adopts newer weights from the `weights`
bucket, then judges candidates until SIGINT or SIGTERM (exit 0 on a clean stop).
Replicas share the durable consumer, so running more copies spreads the candidates.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from faststream import FastStream

from swingflow_common.bus import ensure_streams, jetstream, make_broker
from swingflow_common.bus.pull import BatchConsumer
from swingflow_common.config import ConfigError
from swingflow_common.db import Writer, engine_from_url, migrate_async, session_factory
from swingflow_common.observability import (
    SERVICE_READY,
    MetricsServer,
    configure_logging,
    start_metrics_server,
)
from swingflow_common.settings import SettingsError, load_settings
from swingflow_signals.handlers import SERVICE, build_router, candidates_spec, judge_batch
from swingflow_signals.judge import Judge
from swingflow_signals.ml_client import MlClient
from swingflow_signals.settings import Settings
from swingflow_signals.weights import Weights, adopt_stored, file_time, read_config


@dataclass(frozen=True)
class SignalsService:
    """The app and the parts a test may look at."""

    app: FastStream
    judge: Judge

    @property
    def weights(self) -> Weights:
        return self.judge.weights


def build_service(settings: Settings | None = None) -> SignalsService:
    settings = settings or load_settings(Settings)
    configure_logging(settings.log_level, service=SERVICE)
    weights = Weights(read_config(settings.swingflow_config))
    broker = make_broker(settings, SERVICE)
    # no pre-ping: a transaction of its own per checkout on asyncpg, and a batch that
    # meets a dropped connection is retried anyway (docs/services.md, performance)
    engine = engine_from_url(settings.database_url, pool_pre_ping=False)
    ml = MlClient(lambda: broker.config.connection_state.connection, settings.ml_timeout,
                  settings.ml_recheck_s)  # fmt: skip
    # a batch's verdicts are one statement (`repository.save_first_verdicts`) on a held
    # connection, committed on its own (`db.Writer`)
    writer = Writer(engine)
    judge = Judge(broker, session_factory(engine), writer, weights, ml)
    broker.include_router(build_router(broker, judge))
    app = FastStream(broker)
    served: list[MetricsServer] = []
    consumers: list[BatchConsumer] = []

    @app.on_startup
    async def prepare() -> None:
        if settings.metrics_port:
            served.append(start_metrics_server(settings.metrics_port))
        await migrate_async(settings.database_url)
        await broker.connect()
        js = jetstream(broker)
        await ensure_streams(js)
        await adopt_stored(js, weights, file_time(settings.swingflow_config))

    @app.after_startup
    async def ready() -> None:
        consumer = BatchConsumer(jetstream(broker), candidates_spec(settings),
                                 lambda raws: judge_batch(broker, judge, raws),
                                 name="candidates", service=SERVICE)  # fmt: skip
        await consumer.start()
        consumers.append(consumer)
        SERVICE_READY.labels(SERVICE).set(1)

    @app.on_shutdown
    async def stopping() -> None:
        SERVICE_READY.labels(SERVICE).set(0)
        for consumer in consumers:
            await consumer.stop()  # the batch in hand finishes while the broker is still up

    @app.after_shutdown
    async def close() -> None:
        await writer.close()  # never raises: the engine is disposed after it
        await engine.dispose()
        for server in served:
            server.close()

    return SignalsService(app, judge)


def build_app(settings: Settings | None = None) -> FastStream:
    return build_service(settings).app


def main() -> None:
    """Run the signals service until SIGINT/SIGTERM; exit 2 on a bad environment or config."""
    try:
        app = build_app()
    except (SettingsError, ConfigError) as exc:
        print(f"signals: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    asyncio.run(app.run())
