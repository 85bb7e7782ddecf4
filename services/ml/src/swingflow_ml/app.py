"""The ml service's composition root: settings -> logs, metrics -> broker -> router -> app.

    swingflow service ml      # or: python -c "from swingflow_ml.app import main; main()"

Runs in the foreground until SIGINT or SIGTERM and exits 0 on a clean stop.
"""

from __future__ import annotations

import asyncio
import sys

from faststream import FastStream

from swingflow_common.bus import ensure_streams, jetstream, make_broker
from swingflow_common.config import ConfigError, load_config
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.heap import freeze_startup_heap
from swingflow_common.observability import (
    SERVICE_READY,
    MetricsServer,
    configure_logging,
    start_metrics_server,
)
from swingflow_common.settings import SettingsError, load_settings
from swingflow_ml import metrics
from swingflow_ml.handlers import SERVICE, PredictResponder, build_router, log
from swingflow_ml.loading import load_promoted
from swingflow_ml.scorer import Scorer, ScorerSlot
from swingflow_ml.settings import Settings


def build_app(settings: Settings | None = None, scorer: Scorer | None = None) -> FastStream:
    """The service as a FastStream app. At start it loads the promoted model from the
    registry (neutral, saying why, when there is none); a given `scorer` replaces that."""
    settings = settings or load_settings(Settings)
    configure_logging(settings.log_level, service=SERVICE)
    config = load_config(settings.swingflow_config if settings.swingflow_config.exists() else None)
    broker = make_broker(settings, SERVICE)
    slot = ScorerSlot(scorer)
    broker.include_router(build_router(broker, slot, config))
    responder = PredictResponder(broker, slot, settings.queue)
    engine = engine_from_url(settings.database_url)
    app = FastStream(broker)
    served: list[MetricsServer] = []

    @app.on_startup
    async def prepare() -> None:
        if settings.metrics_port:
            served.append(start_metrics_server(settings.metrics_port))
        await broker.connect()
        await ensure_streams(jetstream(broker))  # dlq.ml needs its stream
        if scorer is None:
            loaded = await load_promoted(session_factory(engine), config)
            if isinstance(loaded, str):
                log.warning("starting neutral", extra={"reason": loaded})
            else:
                slot.install(loaded)
                log.info("promoted model loaded", extra={"version": loaded.version})

    @app.after_startup
    async def ready() -> None:
        await responder.start()
        metrics.MODEL_LOADED.set(1 if slot.loaded else 0)
        SERVICE_READY.labels(SERVICE).set(1)

    @app.on_shutdown
    async def stopping() -> None:
        SERVICE_READY.labels(SERVICE).set(0)
        await responder.stop()

    @app.after_shutdown
    async def close() -> None:
        for server in served:
            server.close()
        await engine.dispose()

    return app


def main() -> None:
    """Run the ml service until SIGINT/SIGTERM; exit 2 on a bad environment."""
    try:
        app = build_app()
    except (SettingsError, ConfigError) as exc:
        print(f"ml: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    @app.after_startup
    async def settle() -> None:
        # in the service's own process only (tests run build_app's app in theirs)
        freeze_startup_heap()

    asyncio.run(app.run())
