"""`scan.jobs`: a work queue shared by the replicas. Two replicas split a set of jobs, each
job is handled exactly once, and the candidates are those of the batch scan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from nats.js import JetStreamContext
from scanner_helpers import (
    CONFIG,
    by_id,
    candidates,
    day_ordered_bars,
    running,
    settings,
    sp500_symbols,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams, publish
from swingflow_common.db import repository
from swingflow_common.messages import ScanJob
from swingflow_common.pipeline.scan import scan
from swingflow_common.testing import eventually
from swingflow_scanner.service import Scanner

pytestmark = pytest.mark.integration


def recording(scanner: Scanner, name: str, log: list[tuple[str, str]]) -> None:
    """Note which replica ran which job (a wrapper, the real handler still runs)."""
    run_job: Callable[[ScanJob], Awaitable[None]] = scanner.run_job

    async def run_and_note(job: ScanJob) -> None:
        await run_job(job)
        log.append((name, job.job_id))

    scanner.run_job = run_and_note  # type: ignore[method-assign,unused-ignore]


async def test_two_replicas_split_the_jobs_and_each_job_runs_once(
    js: JetStreamContext,
    nats_url: str,
    database_url: str,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = sp500_symbols(12, offset=5)
    async with db_sessions.begin() as session:
        await repository.upsert_bars(session, day_ordered_bars(data))
    groups = [sorted(data.bars)[i::3] for i in range(3)]
    dates = list(data.dates[-40::8])
    jobs = [
        ScanJob(job_id=f"job-{g}-{d:%Y%m%d}", symbols=tuple(group), asof=d.to_pydatetime())
        for g, group in enumerate(groups)
        for d in dates
    ]
    expected = {
        e.candidate.id: e.candidate
        for job in jobs
        for e in scan(data, CONFIG, asof=job.asof, symbols=job.symbols).evaluations
    }
    assert expected
    await ensure_streams(js)
    log: list[tuple[str, str]] = []
    conf = {"replicas": 2, "ticks": False}
    async with (
        running(js, db_sessions, settings(nats_url, database_url, replica=0, **conf)) as a,
        running(js, db_sessions, settings(nats_url, database_url, replica=1, **conf)) as b,
    ):
        recording(a, "a", log)
        recording(b, "b", log)
        for job in jobs:
            await publish(js, subjects.SCAN_JOBS, job)
        await eventually(lambda: len(log) >= len(jobs), within=30)
    assert Counter(job_id for _, job_id in log) == Counter(j.job_id for j in jobs)  # once each
    assert {who for who, _ in log} == {"a", "b"}  # both replicas took part
    assert (await js.stream_info("SCAN")).state.messages == 0  # work queue: acked jobs leave
    got = by_id(await candidates(js))
    assert set(got) == set(expected)
    for cid, c in expected.items():
        assert got[cid].features == c.features
        assert got[cid].base == c.base
