"""The ML models: `GET /api/ml/models` (the registry, headline out-of-sample figures),
`GET /api/ml/models/{version}` (the whole report) and the authenticated
`POST /api/ml/train` that trains a model as a background job.

A training is `swingflow_common.ml.job.train_datasets` then `record`, the very functions
behind `swingflow train`: it runs in a job (jobs.py) with its progress on the WebSocket
channel `jobs`; the registry decides promotion, and a promoted model is announced on
`ml.models.updated` after the commit (the ml service loads it at once, and the
gateway's own `models` channel relays the announcement to the dashboard).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from swingflow_common import subjects
from swingflow_common.config import StrategyConfig, load_config
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.messages import JobProgress
from swingflow_common.ml import registry
from swingflow_common.ml.request import TrainRequest
from swingflow_common.progress import Progress
from swingflow_gateway.auth import WriteAccess
from swingflow_gateway.deps import ResourcesDep, SessionDep
from swingflow_gateway.jobs import JobsBusyError
from swingflow_gateway.ml_views import MlModelDetail, MlModelPage, detail, summarize
from swingflow_gateway.params import Offset
from swingflow_gateway.resources import Resources
from swingflow_gateway.routers import ERRORS
from swingflow_gateway.routers.weights import WRITE_ERRORS
from swingflow_gateway.schemas import ErrorOut

if TYPE_CHECKING:
    from swingflow_common.ml.job import Trained

router = APIRouter(prefix="/api/ml", tags=["ml"])
log = logging.getLogger(__name__)

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
NO_MODEL: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No model with this version."},
    422: {"model": ErrorOut, "description": "A malformed version."},
}


@router.get("/models", response_model=MlModelPage, responses=ERRORS)
async def list_models(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> MlModelPage:
    """Registered models, newest first: promoted flag, training window, out-of-sample
    headline figures."""
    rows = await registry.list_models(session)
    items = [summarize(row) for row in rows[offset : offset + limit]]
    return MlModelPage(items=items, total=len(rows), limit=limit, offset=offset)


@router.get("/models/{version}", response_model=MlModelDetail, responses=NO_MODEL)
async def get_model(
    session: SessionDep,
    version: Annotated[str, Path(pattern=VERSION_PATTERN, description="A model version.")],
) -> MlModelDetail:
    """One model's whole out-of-sample report: per fold, calibration, lift with its
    bootstrap interval, feature importance."""
    row = await registry.get_model(session, version)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no model version {version!r}")
    return detail(row)


@router.get("/train", response_model=list[JobProgress], responses=ERRORS)
async def list_trainings(
    resources: ResourcesDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[JobProgress]:
    """The trainings this gateway started (newest first, each in its latest state; memory
    only, like every job)."""
    return [job for job in resources.jobs.recent(200) if job.kind == "train"][:limit]


@router.post(
    "/train",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobProgress,
    responses={
        **WRITE_ERRORS,
        429: {"model": ErrorOut, "description": "Too many jobs are already waiting."},
    },
    dependencies=[WriteAccess],
)
async def start_training(
    body: TrainRequest, resources: ResourcesDep, response: Response
) -> JobProgress:
    """Train a model in the background; follow it at `/api/jobs/{job_id}` or on the
    WebSocket channel `jobs`. When done, `result_id` is the new model's version."""
    from swingflow_common.ml.job import record, train_datasets

    config_path = resources.settings.swingflow_config

    def work(progress: Progress) -> tuple[StrategyConfig, Trained]:
        config = load_config(config_path)
        progress("load data", 0, len(body.universes))
        datasets = body.load_datasets()
        trained = train_datasets(datasets, config, body.start, body.end,
                                 body.train_params(), progress)  # fmt: skip
        return config, trained

    async def finish(value: tuple[StrategyConfig, Trained]) -> str:
        config, trained = value
        # `record` reads the promoted model, then writes: on SQLite shared with the running
        # services it must hold the write lock from the start (engine_from_url docstring)
        engine = engine_from_url(resources.settings.database_url, immediate=True)
        try:
            recorded = await record(trained.result, config, session_factory(engine),
                                    datetime.now(UTC), body.promote)  # fmt: skip
        finally:
            await engine.dispose()
        log.info("model trained", extra={"version": recorded.version,
                                         "promoted": recorded.promoted})  # fmt: skip
        if recorded.update is not None:
            await _announce(resources, recorded.update.model_dump_json().encode())
        return recorded.version

    try:
        job = resources.jobs.submit("train", work, finish)
    except JobsBusyError as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    response.headers["Location"] = f"/api/jobs/{job.job_id}"
    return job


async def _announce(resources: Resources, payload: bytes) -> None:
    """Publish the promotion. With NATS down the model stays promoted in the database (the
    ml service loads it when it starts), so the job still succeeds."""
    try:
        await resources.nats.publish(subjects.ML_MODELS_UPDATED, payload)
    except Exception as exc:
        log.warning("model promoted but not announced on ml.models.updated: %r", exc)
