"""The feed service: replays a dataset as `md.bars.<SYM>`, day by day, then idles.

    swingflow service feed          # or: python -m swingflow_feed.app

Composition root: settings -> logs and metrics -> the dataset -> NATS -> the replay loop.
It runs until SIGINT/SIGTERM (exit 0). A dataset that cannot be published (unknown, no
volume) is refused at start with exit code 2. When the dataset ends the feed logs it
once, sets `swingflow_feed_finished` and stays up, idle and ready, so a supervisor does not
restart it; the next start resumes after the cursor and has nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

import nats
from nats.js import JetStreamContext

from swingflow_common.bus import ensure_streams
from swingflow_common.data import DataError, load
from swingflow_common.observability import SERVICE_READY, configure_logging, start_metrics_server
from swingflow_common.settings import SettingsError, load_settings
from swingflow_feed import metrics
from swingflow_feed.cursor import Cursor
from swingflow_feed.days import DaySource, FeedError
from swingflow_feed.nats_ports import backlog, publish_day, watched_consumers
from swingflow_feed.pacing import Pacer, Sleep
from swingflow_feed.replay import Ports, ReplayOptions, ReplayOutcome, replay
from swingflow_feed.settings import Settings

SERVICE = "feed"
log = logging.getLogger("swingflow.feed")


def stop_sleep(stop: asyncio.Event) -> Sleep:
    """A sleep that ends early, returning False, once `stop` is set."""

    async def sleep(seconds: float) -> bool:
        if stop.is_set():
            return False
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            return True
        return False

    return sleep


async def await_consumer(js: JetStreamContext, settings: Settings, sleep: Sleep) -> None:
    """Give the scanner up to `await_consumer_s` to create its consumer, so the warm-up
    starts with backpressure; after that, publish anyway (logged)."""
    deadline = time.monotonic() + settings.await_consumer_s
    while not await watched_consumers(js, settings.watch_prefix):
        if time.monotonic() >= deadline:
            log.warning(
                "no consumer to pace against; publishing without backpressure",
                extra={"watch_prefix": settings.watch_prefix},
            )
            return
        if not await sleep(settings.poll_interval_s * 4):
            return


async def run(
    settings: Settings, stop: asyncio.Event, source: DaySource | None = None
) -> ReplayOutcome:
    """Replay `settings.dataset` (or `source`) until it ends, then idle until `stop`."""
    if source is None:
        source = DaySource(await asyncio.to_thread(load, settings.dataset))
    sleep = stop_sleep(stop)
    nc = await nats.connect(settings.nats_servers, name=f"swingflow-{SERVICE}")
    try:
        js = nc.jetstream(publish_async_max_pending=settings.max_in_flight)
        await ensure_streams(js)
        cursor = await Cursor.open(js, settings.dataset)
        start = source.first_after(await cursor.load())
        SERVICE_READY.labels(SERVICE).set(1)
        log.info(
            "replay starting",
            extra={
                "dataset": source.name,
                "days": len(source),
                "first_day": start,
                "symbols": len(source.symbols),
            },
        )
        if start < len(source):
            await await_consumer(js, settings, sleep)
        ports = Ports(
            publish_day=lambda day: publish_day(js, day),
            save_cursor=cursor.save,
            pending=lambda: backlog(js, settings.watch_prefix),
            clock=time.monotonic,
            sleep=sleep,
        )
        options = ReplayOptions(
            settings.max_pending, settings.poll_interval_s, settings.progress_every, len(source)
        )
        pacer = Pacer(settings.warmup_days, settings.days_per_second)
        outcome = await replay(source.days(start), pacer, ports, options)
        if outcome.finished:
            metrics.FINISHED.set(1)
            metrics.REPLAY_PROGRESS.set(1.0)
            log.info(
                "replay finished: the dataset has no more days; idling",
                extra={
                    "dataset": source.name,
                    "days_published": outcome.days,
                    "bars_published": outcome.bars,
                },
            )
        await stop.wait()
        return outcome
    finally:
        SERVICE_READY.labels(SERVICE).set(0)
        await nc.drain()


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)


def main() -> None:
    """Run the feed in the foreground until SIGINT/SIGTERM; exit 2 on a bad setting or dataset."""
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        configure_logging(service=SERVICE)
        log.error(str(exc))
        raise SystemExit(2) from None
    configure_logging(settings.log_level, service=SERVICE)
    SERVICE_READY.labels(SERVICE).set(0)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port)
    try:
        asyncio.run(_serve(settings))
    except (FeedError, DataError) as exc:
        log.error("cannot replay this dataset: %s", exc, extra={"dataset": settings.dataset})
        raise SystemExit(2) from None
    log.info("stopped")


if __name__ == "__main__":
    main()
