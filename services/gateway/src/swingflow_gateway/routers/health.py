"""`/healthz` (the process answers), `/readyz` (NATS and the database answer), `/metrics`."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from swingflow_gateway.deps import ResourcesDep
from swingflow_gateway.resources import Resources
from swingflow_gateway.schemas import Health, Readiness, ReadinessChecks

router = APIRouter(tags=["health"])

DB_TIMEOUT = 2.0


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up and serving."""
    return Health()


async def _select_one(resources: Resources) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))


async def _database_ok(resources: Resources) -> bool:
    try:
        await asyncio.wait_for(_select_one(resources), DB_TIMEOUT)
        return True
    except Exception:
        return False


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "NATS or the database is down."}},
)
async def readyz(resources: ResourcesDep) -> JSONResponse:
    """Ready when NATS is connected and the database answers `SELECT 1`; 503 otherwise."""
    checks = ReadinessChecks(nats=resources.nats.connected, database=await _database_ok(resources))
    ok = checks.nats and checks.database
    answer = Readiness(status="ok" if ok else "degraded", checks=checks)
    return JSONResponse(answer.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics() -> Response:
    """Prometheus text format: this process's metrics."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
