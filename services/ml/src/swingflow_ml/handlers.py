"""ml's subscribers: answer `ml.predict` (queue group, so replicas share), load the model
announced on `ml.models.updated` (every replica: a plain subscription, no queue group).

A malformed request gets an error reply at once, in the NATS services convention
(`Nats-Service-Error` and `Nats-Service-Error-Code` headers, the reason as the body), so the
caller does not wait for its timeout, and the request goes to `dlq.ml` with the reason.
"""

from __future__ import annotations

import logging
import time

from faststream.nats import NatsBroker, NatsResponse, NatsRouter
from faststream.nats.annotations import NatsMessage
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.bus import dead_letter, decode_or_dead_letter, describe
from swingflow_common.bus.dead_letter import kind_of
from swingflow_common.config import StrategyConfig
from swingflow_common.messages import MlPredictRequest, ModelUpdated, decode
from swingflow_ml import metrics
from swingflow_ml.loading import load_announced
from swingflow_ml.scorer import ScorerSlot

SERVICE = "ml"
ERROR_HEADER = "Nats-Service-Error"
ERROR_CODE_HEADER = "Nats-Service-Error-Code"

log = logging.getLogger("swingflow.ml")


def error_reply(reason: str) -> NatsResponse:
    """The reply to a request that cannot be answered: headers say why, so does the body."""
    return NatsResponse(
        reason.encode(), headers={ERROR_HEADER: reason[:200], ERROR_CODE_HEADER: "400"}
    )


async def parse_request(broker: NatsBroker, message: NatsMessage) -> MlPredictRequest | str:
    """The request, or the reason it is unusable (after dead-lettering it).

    Validated as a `MlPredictRequest` straight away (the generic `decode` would first
    pick the type among every message's); what fails that, or lacks the `type` that
    `decode` requires, is decoded again the generic way, so it is refused exactly as
    before, with `decode`'s reason and kind ("expected a MlPredictRequest ..., got Bar"
    for another message, not Bar's fields listed as extra)."""
    raw = message.raw_message
    try:
        typed = MlPredictRequest.model_validate_json(raw.data)
        if "type" in typed.model_fields_set:  # `decode` requires it: no default here
            return typed
    except ValidationError:
        pass
    try:
        request = decode(raw.data)
    except ValidationError as exc:
        reason = describe(exc)
        await dead_letter(broker, SERVICE, raw.subject, raw.data, reason, kind_of(exc))
        return reason
    if not isinstance(request, MlPredictRequest):
        reason = f"expected a MlPredictRequest on {raw.subject}, got {type(request).__name__}"
        await dead_letter(broker, SERVICE, raw.subject, raw.data, reason, "unexpected_type")
        return reason
    return request


def build_router(
    broker: NatsBroker, slot: ScorerSlot, config: StrategyConfig, queue: str = "ml"
) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(subjects.ML_PREDICT, queue=queue)
    async def on_predict(message: NatsMessage) -> NatsResponse:
        start = time.perf_counter()
        request = await parse_request(broker, message)
        if isinstance(request, str):
            metrics.REQUESTS.labels("error").inc()
            return error_reply(request)
        reply, neutral = slot.answer(request.candidates)
        if neutral:
            metrics.PREDICTIONS.labels("true").inc(neutral)
        if len(request.candidates) > neutral:
            metrics.PREDICTIONS.labels("false").inc(len(request.candidates) - neutral)
        metrics.REQUESTS.labels("answered").inc()
        metrics.PREDICT_SECONDS.observe(time.perf_counter() - start)
        return NatsResponse(reply)

    @router.subscriber(subjects.ML_MODELS_UPDATED)
    async def on_model_updated(message: NatsMessage) -> None:
        raw = message.raw_message
        update = await decode_or_dead_letter(broker, SERVICE, raw, ModelUpdated)
        if update is None:
            metrics.MODEL_UPDATES.labels("invalid").inc()
            return
        loaded = await load_announced(update, config)
        if isinstance(loaded, str):
            metrics.MODEL_UPDATES.labels("refused").inc()
            log.error("announced model refused; the current one goes on", extra={
                "version": update.version, "reason": loaded})  # fmt: skip
            return
        slot.install(loaded)
        metrics.MODEL_UPDATES.labels("loaded").inc()
        metrics.MODEL_LOADED.set(1)
        log.info("model loaded", extra={"version": update.version, "path": update.path})

    return router
