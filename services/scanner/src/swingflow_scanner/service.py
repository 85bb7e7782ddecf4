"""The scanner's consumers and loops, on a connected nats-py client.

    scanner = Scanner(js, sessions, config, settings)
    await scanner.start()        # streams, consumers, history from the database: ready
    await scanner.run(stop)      # consume until `stop` is set, finishing the current batch

Three pull consumers, each fetched by its own loop: `md.bars.*` (durable per replica,
`scanner-<i>-of-<N>`, in batches), `scan.jobs` (one durable shared by all replicas) and
`md.ticks.*` (durable per replica); plus a timer that closes daily bars built from ticks,
and a task that completes the latest analyses left at the setup tier while bars are quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from swingflow_common import subjects
from swingflow_common.bus import MAX_DELIVER, ensure_streams, handle_each, publish, stream_for
from swingflow_common.bus.broker import ACK_WAIT
from swingflow_common.config import StrategyConfig
from swingflow_common.db import Writer
from swingflow_common.messages import ScanJob, utcnow
from swingflow_common.observability import SERVICE_READY, track_handler
from swingflow_scanner import metrics
from swingflow_scanner.bar_handler import BarHandler
from swingflow_scanner.jobs import job_candidates
from swingflow_scanner.partition import Partition
from swingflow_scanner.settings import SERVICE, Settings
from swingflow_scanner.state import ScannerState
from swingflow_scanner.store import Sessions, rebuild
from swingflow_scanner.tick_handler import TickHandler

log = logging.getLogger("swingflow.scanner")
Handler = Callable[[Sequence[Msg]], Awaitable[None]]
TICK_REPLAY_WINDOW = timedelta(days=3)


def consumer_config(durable: str, subject: str, batch: int, ordered: bool = True) -> ConsumerConfig:
    """A durable pull consumer. `ordered`: at most one batch unacked (max_ack_pending), so
    after a crash the server redelivers that batch before anything newer and bars keep
    their order; the job queue needs no order, so its replicas may hold jobs side by side.
    """
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        max_deliver=MAX_DELIVER,
        ack_wait=ACK_WAIT,
        max_ack_pending=batch if ordered else 1_000,
    )


class Scanner:
    def __init__(
        self,
        js: JetStreamContext,
        sessions: Sessions,
        config: StrategyConfig,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        writer: Writer | None = None,
    ) -> None:
        self.js, self.sessions, self.config, self.settings = js, sessions, config, settings
        # the bars' writes: one statement a batch on a held connection (`db.Writer`), by
        # default on the engine of `sessions`
        self.writer = writer or Writer.bound_to(sessions)
        self.partition = Partition(settings.replica, settings.replicas)
        self.state = ScannerState(config, self.partition)
        self.ticks = TickHandler(
            js, self.partition, timedelta(seconds=settings.session_grace_s), clock
        )
        self.subs: dict[str, JetStreamContext.PullSubscription] = {}
        self.handlers: dict[str, tuple[Handler, int]] = {}
        self.bars: BarHandler | None = None

    async def _subscribe(
        self, durable: str, subject: str, batch: int, ordered: bool = True
    ) -> None:
        stream = stream_for(subject)
        config = consumer_config(durable, subject, batch, ordered)
        self.subs[durable] = await self.js.pull_subscribe(
            subject, durable=durable, stream=stream, config=config
        )

    async def _acked_through(self, durable: str) -> int:
        """The stream sequence up to which a durable has acked everything (0 if new)."""
        try:
            info = await self.js.consumer_info(stream_for(subjects.TICKS_ALL), durable)
        except NotFoundError:
            return 0
        return info.ack_floor.stream_seq if info.ack_floor else 0

    async def start(self) -> None:
        """Streams and consumers first (so the feed can pace against the backlog), then
        the history from the database; ready once consuming can begin."""
        s = self.settings
        await ensure_streams(self.js)
        kv = await self.js.key_value(subjects.ANALYSIS_BUCKET)
        bars = self.bars = BarHandler(self.js, self.writer, self.state, kv, s.max_attempts,
                                      s.announce_every_s)  # fmt: skip
        await self._subscribe(self.partition.bars_durable, subjects.BARS_ALL, s.batch_size)
        self.handlers[self.partition.bars_durable] = (bars, s.batch_size)
        if s.jobs:
            await self._subscribe(subjects.SCANNER_QUEUE, subjects.SCAN_JOBS, 1, ordered=False)
            self.handlers[subjects.SCANNER_QUEUE] = (self.on_jobs, 1)
        if s.ticks:
            acked = await self._acked_through(self.partition.ticks_durable)
            await self.ticks.recover(
                acked, TICK_REPLAY_WINDOW + timedelta(seconds=s.session_grace_s)
            )
            await self._subscribe(self.partition.ticks_durable, subjects.TICKS_ALL, s.batch_size)
            self.handlers[self.partition.ticks_durable] = (self.ticks, s.batch_size)
        loaded = await rebuild(self.sessions, self.state)
        log.info(
            "scanner ready",
            extra={
                "replica": s.replica,
                "replicas": s.replicas,
                "symbols": len(self.state.books),
                "bars_loaded": loaded,
            },
        )
        SERVICE_READY.labels(SERVICE).set(1)

    async def on_jobs(self, msgs: Sequence[Msg]) -> None:
        await handle_each(self.js, SERVICE, msgs, ScanJob, self.run_job)

    async def run_job(self, job: ScanJob) -> None:
        with track_handler(SERVICE, "scan_job"):
            candidates = await job_candidates(self.sessions, self.config, job)
            for candidate in candidates:
                await publish(self.js, subjects.candidates(candidate.symbol), candidate)
        metrics.JOBS.labels("ok").inc()
        log.info(
            "scan job done",
            extra={
                "job_id": job.job_id,
                "symbols": len(job.symbols),
                "candidates": len(candidates),
            },
        )

    async def _consume(self, durable: str, stop: asyncio.Event) -> None:
        sub = self.subs[durable]
        handle, batch = self.handlers[durable]
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=self.settings.fetch_timeout_s)
            except TimeoutError:
                continue
            except Exception:
                log.warning("fetch failed", exc_info=True, extra={"consumer": durable})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            try:
                await handle(msgs)
            except Exception:  # a bug, not bad data: unacked messages come back after ack_wait
                log.exception("batch handler failed", extra={"consumer": durable})

    async def _timer(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.tick_timer_s)
            try:
                await self.ticks.on_timer()
            except Exception:
                log.exception("tick timer failed")

    async def _finish_latest(self, stop: asyncio.Event) -> None:
        """Complete the latest analyses left at the setup tier, one symbol at a time, only
        once no batch of bars has been handled for `latest_idle_s`: bars come first."""
        assert self.bars is not None
        idle = self.settings.latest_idle_s
        while not stop.is_set():
            quiet = self.bars.quiet_for()
            if quiet >= idle and self.state.unfinished:
                try:
                    await self.bars.finish_latest()
                except Exception:
                    log.exception("finishing a latest analysis failed")
                await asyncio.sleep(0)  # a batch that arrived meanwhile goes first
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(idle - quiet, 0.01))

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; each loop finishes the batch it holds."""
        tasks = [asyncio.create_task(self._consume(d, stop)) for d in self.handlers]
        tasks.append(asyncio.create_task(self._finish_latest(stop)))
        if self.settings.ticks:
            tasks.append(asyncio.create_task(self._timer(stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            SERVICE_READY.labels(SERVICE).set(0)
            for sub in self.subs.values():
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            await self.writer.close()
