"""`GET /api/weights` and the authenticated `PUT /api/weights` that changes them live.

A PUT is validated like the config file (`StrategyConfig.with_weights`: all four weights
in [0, 1] summing to 1, threshold in [0, 1]), then, in this order: written to
`swing_config.json` (so a restart keeps them), put in the KV bucket `weights` under
`current` (so a service that starts later reads them), and published as
`WeightsUpdated` on `config.weights.updated` (so the signals service reloads them now).
NATS is checked first: when it is down nothing is changed and the answer is a 503.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, HTTPException, status

from swingflow_common import subjects
from swingflow_common.config import ConfigError, StrategyConfig, load_config, save_weights
from swingflow_common.messages import WeightsUpdated
from swingflow_gateway.auth import WriteAccess
from swingflow_gateway.deps import ResourcesDep
from swingflow_gateway.resources import Resources
from swingflow_gateway.schemas import ErrorOut, WeightsIn, WeightsOut

router = APIRouter(prefix="/api/weights", tags=["weights"])
log = logging.getLogger(__name__)

KV_KEY = "current"
KV_TIMEOUT = 2.0
WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The body could not be read as JSON."},
    401: {"model": ErrorOut, "description": "No token, or a wrong one."},
    422: {"model": ErrorOut, "description": "Weights that do not validate; the field is named."},
    503: {"model": ErrorOut, "description": "Writes disabled (no token set), or NATS down."},
}


async def _config(resources: Resources) -> StrategyConfig:
    try:
        return await asyncio.to_thread(load_config, resources.settings.swingflow_config)
    except ConfigError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


async def _kv_weights(resources: Resources) -> WeightsUpdated | None:
    if not resources.nats.connected:
        return None
    try:
        bucket = await asyncio.wait_for(
            resources.nats.key_value(subjects.WEIGHTS_BUCKET), KV_TIMEOUT
        )
        entry = await asyncio.wait_for(bucket.get(KV_KEY), KV_TIMEOUT)
        return WeightsUpdated.model_validate_json(entry.value or b"")
    except Exception as exc:  # no bucket or key yet, or not a WeightsUpdated: use the file
        log.debug("no weights in the KV bucket: %r", exc)
        return None


def _answer(config: StrategyConfig, live: WeightsUpdated | None = None) -> WeightsOut:
    threshold = config.confirm_threshold
    if live is not None and live.confirm_threshold is not None:
        threshold = live.confirm_threshold
    return WeightsOut(
        weights=dict(live.weights) if live is not None else config.weights.as_dict(),
        confirm_threshold=threshold,
        stage_minimums=config.stage_minimums.as_dict(),
    )


@router.get("", response_model=WeightsOut)
async def get_weights(resources: ResourcesDep) -> WeightsOut:
    """The weights in force: the live ones in the KV bucket, else the config file's."""
    return _answer(await _config(resources), await _kv_weights(resources))


def _field_errors(exc: ConfigError) -> str:
    """The config error's lines, with the config's key names turned into the body's."""
    lines = [line.strip().removeprefix("- ") for line in str(exc).splitlines()[1:]]
    text = "; ".join(lines) or str(exc)
    return text.replace("integration_weights", "weights")


@router.put("", response_model=WeightsOut, responses=WRITE_ERRORS, dependencies=[WriteAccess])
async def put_weights(body: WeightsIn, resources: ResourcesDep) -> WeightsOut:
    """Change the integration weights (and threshold) for every service, live."""
    async with resources.weights_lock:
        if not resources.nats.connected:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "NATS is not connected, so the signals service could not be told: "
                "nothing was changed",
            )
        config = await _config(resources)
        weights = body.weights.model_dump()
        try:
            updated = config.with_weights(weights, body.confirm_threshold)
        except ConfigError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _field_errors(exc)) from None
        path = resources.settings.swingflow_config
        await asyncio.to_thread(save_weights, path, weights, body.confirm_threshold)
        event = WeightsUpdated(
            weights=updated.integration_weights.as_dict(),
            confirm_threshold=updated.confirm_threshold,
            source="api",
        )
        payload = event.model_dump_json().encode()
        bucket = await resources.nats.key_value(subjects.WEIGHTS_BUCKET)
        await bucket.put(KV_KEY, payload)
        await resources.nats.publish(subjects.CONFIG_WEIGHTS_UPDATED, payload)
        log.info(
            "weights changed",
            extra={"weights": event.weights, "threshold": event.confirm_threshold},
        )
        return _answer(updated, event)
