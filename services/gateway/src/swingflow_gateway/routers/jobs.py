"""`GET /api/jobs` and `GET /api/jobs/{job_id}`: the state of background jobs (backtests
started with `POST /api/backtest`, trainings...), the same `JobProgress` the WebSocket
channel `jobs` carries. Jobs live in memory: a restarted gateway knows none."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from swingflow_common.messages import JobProgress
from swingflow_gateway.deps import ResourcesDep
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.schemas import ErrorOut

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("", response_model=list[JobProgress], responses=ERRORS)
async def list_jobs(
    resources: ResourcesDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[JobProgress]:
    """The newest jobs first, each in its latest state."""
    return resources.jobs.recent(limit)


@router.get(
    "/{job_id}",
    response_model=JobProgress,
    responses={
        **ERRORS,
        404: {"model": ErrorOut, "description": "No such job (or forgotten)."},
    },
)
async def get_job(
    resources: ResourcesDep,
    job_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._\-]{1,64}$")],
) -> JobProgress:
    """One job's latest state: queued, running (stage, done of total), done or failed."""
    job = resources.jobs.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r}")
    return job
