"""Background jobs: a long domain function (a backtest, a model training) run off the
event loop, its progress announced as `JobProgress`, its state queryable by id.

    job = runner.submit("backtest", work, finish)   # -> 202 with job.job_id

`work(progress)` runs in a worker thread (the domain functions are plain blocking code,
mostly numpy, which lets the loop run meanwhile) and returns a value; `finish(value)` then
runs on the event loop (e.g. storing the result with the gateway's own database engine)
and returns the result id. At most `max_running` jobs run at once, others wait as
`queued`, and past `max_queued` waiting jobs `submit` refuses with `JobsBusyError` (a 429).
An exception in either step marks the job `failed` with its message; the gateway never
crashes for it. The last `keep` jobs stay queryable (memory only: a restart forgets them,
while their results are in the database).

Progress is announced through `announce(JobProgress)` (the gateway offers it to the hub's
`jobs` channel and to NATS), at most every `min_interval` seconds per job besides every
change of stage or status, so a tight loop reporting each bar cannot flood the clients.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any

from swingflow_common import subjects
from swingflow_common.messages import JobKind, JobProgress, JobStatus
from swingflow_common.progress import Progress

if TYPE_CHECKING:
    from swingflow_gateway.nats_link import NatsLink
    from swingflow_gateway.ws.hub import Hub

log = logging.getLogger(__name__)

Work = Callable[[Progress], Any]
Finish = Callable[[Any], Awaitable[str | None]]
Announce = Callable[[JobProgress], None]


class JobsBusyError(RuntimeError):
    """Too many jobs are already waiting."""


class JobCancelledError(RuntimeError):
    """Raised inside a job's worker by its progress callback once the runner closes, so a
    domain function that reports progress stops at its next report."""


class JobRunner:
    def __init__(
        self,
        announce: Announce,
        *,
        max_running: int = 1,
        max_queued: int = 8,
        keep: int = 200,
        min_interval: float = 0.25,
    ) -> None:
        self._announce = announce
        self._slots = asyncio.Semaphore(max_running)
        self._max_queued = max_queued
        self._keep = keep
        self._min_interval = min_interval
        self._jobs: OrderedDict[str, JobProgress] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_sent: dict[str, float] = {}
        self._closing = threading.Event()

    def get(self, job_id: str) -> JobProgress | None:
        return self._jobs.get(job_id)

    def recent(self, limit: int = 50) -> list[JobProgress]:
        """The newest jobs first."""
        return list(reversed(self._jobs.values()))[:limit]

    def submit(self, kind: JobKind, work: Work, finish: Finish | None = None) -> JobProgress:
        """Queue `work` as a new job; its first state (`queued`) is returned and announced."""
        waiting = sum(1 for j in self._jobs.values() if j.status == "queued")
        if waiting >= self._max_queued:
            raise JobsBusyError(f"{waiting} jobs are already waiting; try again later")
        job = JobProgress(job_id=f"job-{secrets.token_hex(6)}", kind=kind, status="queued")
        self._set(job)
        task = asyncio.get_running_loop().create_task(self._run(job.job_id, work, finish))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def _set(self, job: JobProgress, *, force: bool = True) -> None:
        previous = self._jobs.get(job.job_id)
        self._jobs[job.job_id] = job
        while len(self._jobs) > self._keep:
            old, _ = self._jobs.popitem(last=False)
            self._last_sent.pop(old, None)
        now = time.monotonic()
        changed = previous is None or (previous.status, previous.stage) != (job.status, job.stage)
        if force or changed or now - self._last_sent.get(job.job_id, 0.0) >= self._min_interval:
            self._last_sent[job.job_id] = now
            try:
                self._announce(job)
            except Exception:  # a broken listener never fails the job
                log.exception("could not announce job progress")

    def _update(self, job_id: str, status: JobStatus, **fields: Any) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.status not in ("done", "failed"):  # a final state stays
            final = status in ("done", "failed")
            self._set(job.model_copy(update={"status": status, **fields}), force=final)

    async def _run(self, job_id: str, work: Work, finish: Finish | None) -> None:
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int) -> None:  # called in the worker
            if self._closing.is_set():
                raise JobCancelledError("the gateway is shutting down")
            update = partial(
                self._update, job_id, "running", stage=stage, done=max(0, done), total=max(0, total)
            )
            loop.call_soon_threadsafe(update)

        async with self._slots:
            self._update(job_id, "running", stage="starting")
            try:
                value = await asyncio.to_thread(work, progress)
                result_id = await finish(value) if finish is not None else None
            except Exception as exc:
                log.warning("job %s failed: %r", job_id, exc, exc_info=True)
                self._update(job_id, "failed", error=_describe(exc))
                return
        await asyncio.sleep(0)  # let the worker's last progress callbacks land first
        self._update(job_id, "done", result_id=result_id)

    async def close(self) -> None:
        """Cancel every job (a worker thread already running cannot be killed: it ends on
        its own, and its result is dropped); a worker stops at its next progress report."""
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with suppress(asyncio.CancelledError, Exception):
                await task


def _describe(exc: Exception) -> str:
    text = str(exc).strip().strip("'\"") or type(exc).__name__
    return text if isinstance(exc, ValueError | LookupError) else f"{type(exc).__name__}: {text}"


def announcer(hub: Hub, nats: NatsLink) -> Announce:
    """Offer each `JobProgress` to the WebSocket channel `jobs` (through the hub, so the
    frame is the same as any other event's) and, when connected, to NATS `jobs.progress`
    for other programs (best effort: no flush, a lost update is replaced by the next)."""
    tasks: set[asyncio.Task[None]] = set()

    def announce(job: JobProgress) -> None:
        data = job.model_dump_json().encode()
        hub.publish_message(subjects.JOBS_PROGRESS, data)
        client = nats.client
        if client is not None and client.is_connected:
            task = asyncio.get_running_loop().create_task(
                client.publish(subjects.JOBS_PROGRESS, data)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    return announce
