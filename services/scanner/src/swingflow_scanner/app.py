"""The scanner service: bars in, candidates out (and daily bars from ticks, and scan jobs).

    swingflow service scanner        # or: python -m swingflow_scanner.app

Composition root: settings -> logs and metrics -> strategy config -> database (migrated)
-> NATS -> `Scanner.start` (consumers, history from the database) -> `Scanner.run` until
SIGINT/SIGTERM, then exit 0. A bad setting or strategy file exits 2 with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from swingflow_common.config import ConfigError, StrategyConfig, load_config
from swingflow_common.observability import SERVICE_READY, configure_logging, start_metrics_server
from swingflow_common.settings import SettingsError, load_settings
from swingflow_scanner.settings import SERVICE, Settings

log = logging.getLogger("swingflow.scanner")


async def serve(settings: Settings, config: StrategyConfig, stop: asyncio.Event) -> None:
    """Run the scanner until `stop` is set."""
    # Imported here, not at the top: the analysis stack takes seconds to import, and a bad
    # setting should be reported at once.
    import nats

    from swingflow_common.db import engine_from_url, migrate_async, session_factory
    from swingflow_scanner.service import Scanner

    await migrate_async(settings.database_url)
    # no pre-ping: a transaction of its own per checkout on asyncpg, and a batch that
    # meets a dropped connection is retried anyway (docs/services.md, performance)
    engine = engine_from_url(settings.database_url, pool_pre_ping=False)
    nc = await nats.connect(settings.nats_servers, name=f"swingflow-{SERVICE}-{settings.replica}")
    try:
        scanner = Scanner(nc.jetstream(), session_factory(engine), config, settings)
        await scanner.start()
        await scanner.run(stop)
    finally:
        SERVICE_READY.labels(SERVICE).set(0)
        await nc.drain()
        await engine.dispose()


async def _main(settings: Settings, config: StrategyConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, config, stop)


def main() -> None:
    """Run the scanner in the foreground until SIGINT/SIGTERM; exit 2 on a bad setting."""
    try:
        settings = load_settings(Settings)
        config = load_config(settings.swingflow_config)
    except (SettingsError, ConfigError) as exc:
        configure_logging(service=SERVICE)
        log.error(str(exc))
        raise SystemExit(2) from None
    configure_logging(settings.log_level, service=SERVICE)
    SERVICE_READY.labels(SERVICE).set(0)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port)
    asyncio.run(_main(settings, config))
    log.info("stopped")


if __name__ == "__main__":
    main()
