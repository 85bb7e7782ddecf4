"""The background job runner: states, progress, failures, limits, and the `jobs` channel."""

from __future__ import annotations

import asyncio
import threading

import pytest

from swingflow_common import subjects
from swingflow_common.messages import JobProgress
from swingflow_common.progress import Progress
from swingflow_common.testing import eventually
from swingflow_gateway.jobs import JobCancelledError, JobRunner, JobsBusyError
from swingflow_gateway.ws.channels import channels_for, parse_channel


class Recorder:
    def __init__(self) -> None:
        self.sent: list[JobProgress] = []

    def __call__(self, job: JobProgress) -> None:
        self.sent.append(job)

    def statuses(self, job_id: str) -> list[str]:
        return [j.status for j in self.sent if j.job_id == job_id]


async def finished(runner: JobRunner, job_id: str) -> JobProgress:
    async def done() -> bool:
        job = runner.get(job_id)
        return job is not None and job.status in ("done", "failed")

    await eventually(done)
    job = runner.get(job_id)
    assert job is not None
    return job


async def test_a_job_goes_queued_running_done_with_its_progress_and_result() -> None:
    sent = Recorder()
    runner = JobRunner(sent, min_interval=0.0)

    def work(progress: Progress) -> int:
        for i in range(3):
            progress("simulate", i + 1, 3)
        return 42

    async def finish(value: int) -> str:
        return f"run-{value}"

    job = runner.submit("backtest", work, finish)
    assert job.status == "queued"
    final = await finished(runner, job.job_id)

    assert final.status == "done"
    assert final.result_id == "run-42"
    assert (final.stage, final.done, final.total) == ("simulate", 3, 3)
    assert sent.statuses(job.job_id)[0] == "queued"
    assert sent.statuses(job.job_id)[-1] == "done"
    running = [j.done for j in sent.sent if j.status == "running" and j.stage == "simulate"]
    assert running == [1, 2, 3]


async def test_a_failing_job_says_why_and_the_runner_goes_on() -> None:
    runner = JobRunner(Recorder())

    def bad(progress: Progress) -> None:
        raise ValueError("sp500-2010 has no symbol(s) ZZZZ")

    failed = await finished(runner, runner.submit("backtest", bad).job_id)
    ok = await finished(runner, runner.submit("train", lambda p: None).job_id)

    assert failed.status == "failed"
    assert failed.error == "sp500-2010 has no symbol(s) ZZZZ"
    assert ok.status == "done"


async def test_an_unexpected_error_names_its_type() -> None:
    runner = JobRunner(Recorder())

    def broken(progress: Progress) -> None:
        raise RuntimeError("disk full")

    failed = await finished(runner, runner.submit("backtest", broken).job_id)
    assert failed.error == "RuntimeError: disk full"


async def test_jobs_run_one_at_a_time_and_too_many_waiting_are_refused() -> None:
    runner = JobRunner(Recorder(), max_running=1, max_queued=2)
    gate = threading.Event()

    def blocked(progress: Progress) -> None:
        gate.wait(30)

    first = runner.submit("backtest", blocked)
    await eventually(lambda: _status(runner, first.job_id) == "running")
    second = runner.submit("backtest", blocked)
    third = runner.submit("backtest", blocked)
    with pytest.raises(JobsBusyError):
        runner.submit("backtest", blocked)
    assert _status(runner, second.job_id) == "queued"

    gate.set()
    for job in (first, second, third):
        assert (await finished(runner, job.job_id)).status == "done"
    assert [j.job_id for j in runner.recent()] == [third.job_id, second.job_id, first.job_id]


def _status(runner: JobRunner, job_id: str) -> str | None:
    job = runner.get(job_id)
    return job.status if job else None


async def test_closing_stops_a_worker_at_its_next_progress_report() -> None:
    runner = JobRunner(Recorder())
    started, stopped = threading.Event(), threading.Event()

    def endless(progress: Progress) -> None:
        started.set()
        try:
            while True:
                progress("loop", 0, 0)
                threading.Event().wait(0.01)
        except JobCancelledError:
            stopped.set()
            raise

    runner.submit("optimize", endless)
    await asyncio.to_thread(started.wait, 30)
    await runner.close()
    assert await asyncio.to_thread(stopped.wait, 30)


def test_job_progress_goes_to_the_jobs_channel_only_from_its_subject() -> None:
    job = JobProgress(job_id="job-1", kind="backtest", status="running")
    assert parse_channel("Jobs") == "jobs"
    assert channels_for(subjects.JOBS_PROGRESS, job) == ("jobs",)
    assert channels_for(subjects.FILLS, job) == ()
