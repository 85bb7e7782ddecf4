"""Backtest runs: the stored list and each run whole, its trades as CSV, its HTML report,
and the authenticated `POST /api/backtest` that starts one as a background job.

The run itself is `swingflow_common.backtest.runner.run`, the very function behind
`swingflow backtest`; here it runs in a job (jobs.py), its progress goes to the
WebSocket channel `jobs`, and the result is stored with the gateway's own database engine.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from swingflow_common.backtest.export import trades_csv
from swingflow_common.backtest.result import BacktestResult
from swingflow_common.backtest.runner import UniverseBacktestRequest, new_run_id, run
from swingflow_common.config import load_config
from swingflow_common.db import backtest_repository as runs
from swingflow_common.db.backtest_repository import BacktestRunSummary
from swingflow_common.messages import JobProgress
from swingflow_common.progress import Progress
from swingflow_gateway.auth import WriteAccess
from swingflow_gateway.deps import ResourcesDep, SessionDep
from swingflow_gateway.jobs import JobsBusyError
from swingflow_gateway.params import Offset
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.routers.weights import WRITE_ERRORS
from swingflow_gateway.schemas import ErrorOut, Page

router = APIRouter(prefix="/api", tags=["backtest"])

MAX_LIMIT = 200
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,159}$"
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="A backtest run id.")]
NO_RUN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No run with this id."},
    422: {"model": ErrorOut, "description": "A malformed run id."},
}
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
NO_FILE: dict[int | str, dict[str, Any]] = {  # a file route's errors are JSON all the same
    code: {**answer, "content": _ERROR_JSON} for code, answer in NO_RUN.items()
}
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class BacktestRunPage(Page[BacktestRunSummary]):
    """Stored runs, newest first, with their headline metrics."""


async def _run_or_404(session: SessionDep, run_id: str) -> BacktestResult:
    result = await runs.get_run(session, run_id)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no backtest run {run_id!r}")
    return result


@router.get(
    "/backtest/results",
    response_model=BacktestRunPage | BacktestResult,
    responses={**ERRORS, **NO_RUN},
)
@router.get(  # the collection POST /api/backtest adds to, listed the same way
    "/backtest",
    response_model=BacktestRunPage | BacktestResult,
    responses={**ERRORS, **NO_RUN},
    summary="Backtest Results (alias of /api/backtest/results)",
)
async def backtest_results(
    session: SessionDep,
    run_id: Annotated[
        str | None,
        Query(alias="id", pattern=RUN_ID_PATTERN, description="One run, whole (as /runs/{id})."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Offset = 0,
) -> BacktestRunPage | BacktestResult:
    """Stored backtest runs, newest first; with `?id=`, that one run with trades and equity."""
    if run_id is not None:
        return await _run_or_404(session, run_id)
    items = await runs.list_runs(session, limit, offset)
    total = await runs.count_runs(session)
    return BacktestRunPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/backtest/runs/{run_id}", response_model=BacktestResult, responses=NO_RUN)
async def backtest_run(session: SessionDep, run_id: RunId) -> BacktestResult:
    """One run whole: metrics, breakdowns, equity curve, walk-forward windows, trades."""
    return await _run_or_404(session, run_id)


@router.get(
    "/backtest/runs/{run_id}/trades.csv",
    response_class=Response,
    responses={**NO_FILE, 200: {"content": {"text/csv": {}}, "description": "One row a trade."}},
)
async def backtest_trades_csv(session: SessionDep, run_id: RunId) -> Response:
    """The run's trades as CSV, the same file `swingflow backtest` writes."""
    if not await runs.run_exists(session, run_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no backtest run {run_id!r}")
    text = trades_csv(await runs.get_trades(session, run_id))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{run_id}-trades.csv"'},
    )


@router.get(
    "/backtest/runs/{run_id}/report.html",
    response_class=HTMLResponse,
    responses={**NO_FILE, 200: {"content": {"text/html": {}}, "description": "The report."}},
)
async def backtest_report(session: SessionDep, run_id: RunId) -> HTMLResponse:
    """The run's self-contained HTML report (plots inline; the page loads nothing)."""
    from swingflow_common.backtest.report import render_html

    result = await _run_or_404(session, run_id)
    page = await asyncio.to_thread(render_html, result)
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})


@router.post(
    "/backtest",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobProgress,
    responses={
        **WRITE_ERRORS,
        429: {"model": ErrorOut, "description": "Too many jobs are already waiting."},
    },
    dependencies=[WriteAccess],
)
async def start_backtest(
    body: UniverseBacktestRequest, resources: ResourcesDep, response: Response
) -> JobProgress:
    """Start a backtest in the background; follow it at `/api/jobs/{job_id}` or on the
    WebSocket channel `jobs`. When done, `result_id` is the stored run's id."""
    config_path = resources.settings.swingflow_config

    def work(progress: Progress) -> BacktestResult:
        config = load_config(config_path)
        progress("load data", 0, 1)
        dataset = body.load_dataset()
        return run(dataset, config, body, progress=progress, run_id=new_run_id())

    async def finish(result: BacktestResult) -> str:
        async with resources.sessions.begin() as session:
            await runs.save_run(session, result)
        return result.id

    try:
        job = resources.jobs.submit("backtest", work, finish)
    except JobsBusyError as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    response.headers["Location"] = f"/api/jobs/{job.job_id}"
    return job
