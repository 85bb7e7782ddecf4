"""ml's subscribers: answer `ml.predict` (queue group, so replicas share), load the model
announced on `ml.models.updated` (every replica: a plain subscription, no queue group).

`ml.predict` is answered by `PredictResponder`, a plain nats-py subscription rather than
a FastStream subscriber: requests that have arrived while a batch was being scored are
taken together and scored as one batch (the signals service sends a session's candidates
as concurrent requests of 64, as feature rows), each still answered with its own reply, the bytes it
would get alone. FastStream's per-message machinery (0.8 ms of CPU per 160 KB request,
measured with a handler that does nothing) and the fixed costs of scoring (XGBoost's
calls, the stage functions' array operations: about 3 ms a request) are paid once a
batch. A lone request is scored at once: nothing waits for company.

A malformed request gets an error reply at once, in the NATS services convention
(`Nats-Service-Error` and `Nats-Service-Error-Code` headers, the reason as the body), so the
caller does not wait for its timeout, and the request goes to `dlq.ml` with the reason.
A batch that fails to score (a bug) is answered request by request, so one bad request
does not cost the others their answers; what still fails gets an error reply (code 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import nats.errors
from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
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
MAX_BATCH = 32  # requests scored together at most (32 x 64 candidates: ~2,000)
STOP_GRACE = 10.0  # seconds a stopping replica gives the requests it has received

log = logging.getLogger("swingflow.ml")


def error_headers(reason: str, code: int = 400) -> dict[str, str]:
    """The headers of a request that cannot be answered (the body says why as well)."""
    return {ERROR_HEADER: reason[:200], ERROR_CODE_HEADER: str(code)}


async def parse_request(broker: NatsBroker, raw: Msg) -> MlPredictRequest | str:
    """The request, or the reason it is unusable (after dead-lettering it).

    Validated as a `MlPredictRequest` straight away (the generic `decode` would first
    pick the type among every message's); what fails that, or lacks the `type` that
    `decode` requires, is decoded again the generic way, so it is refused exactly as
    before, with `decode`'s reason and kind ("expected a MlPredictRequest ..., got Bar"
    for another message, not Bar's fields listed as extra)."""
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


class PredictResponder:
    """Answers `ml.predict` on the broker's connection, in queue group `queue`."""

    def __init__(self, broker: NatsBroker, slot: ScorerSlot, queue: str = "ml") -> None:
        self.broker = broker
        self.slot = slot
        self.queue = queue
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._idle: asyncio.Future[Msg] | None = None  # waiting for a request, no batch held

    @property
    def connection(self) -> Client:
        client: Client = self.broker.config.connection_state.connection
        return client

    async def start(self) -> None:
        """Subscribe (the broker connected) and serve until `stop`."""
        self._stopping = False
        self._subscription = await self.connection.subscribe(subjects.ML_PREDICT, queue=self.queue)
        self._task = asyncio.create_task(self._serve(self._subscription), name="ml.predict")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop taking requests; those already received are answered first (within
        `grace` seconds), so a replica that stops costs no caller a timeout."""
        self._stopping = True
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):  # the connection may be closing already
                await subscription.unsubscribe()
        task, self._task = self._task, None
        if task is None:
            return
        if self._idle is not None and subscription is not None and not subscription.pending_msgs:
            self._idle.cancel()  # nothing held, nothing waiting: no need to wait
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, grace)  # cancelled when the grace runs out

    async def _serve(self, subscription: Subscription) -> None:
        while not (self._stopping and not subscription.pending_msgs):
            try:
                batch = await self._next_batch(subscription)
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except nats.errors.ConnectionClosedError:
                log.warning("ml.predict stops: the NATS connection is closed")
                return
            try:
                await self.answer(batch)
            except Exception:  # never let one batch stop the service
                log.exception("ml.predict batch failed", extra={"requests": len(batch)})

    async def _next_batch(self, subscription: Subscription) -> list[Msg]:
        """The next request, and those already waiting behind it (at most `MAX_BATCH`)."""
        self._idle = asyncio.ensure_future(subscription.next_msg(timeout=None))
        try:
            batch = [await self._idle]
        finally:
            self._idle = None
        while len(batch) < MAX_BATCH:
            if not subscription.pending_msgs:
                await asyncio.sleep(0)  # the reader parses what the socket already holds
                if not subscription.pending_msgs:
                    break
            batch.append(await subscription.next_msg(timeout=None))
        return batch

    async def answer(self, messages: Sequence[Msg]) -> None:
        """Answer each request of `messages`: an error reply for a malformed one, the
        others scored together."""
        start = time.perf_counter()
        valid: list[tuple[Msg, MlPredictRequest]] = []
        for message in messages:
            request = await parse_request(self.broker, message)
            if isinstance(request, str):
                metrics.REQUESTS.labels("error").inc()
                await self._reply(message, request.encode(), error_headers(request))
            else:
                valid.append((message, request))
        if not valid:
            return
        metrics.BATCH_REQUESTS.observe(len(valid))
        for (message, request), answer in zip(
            valid, self._score([r for _, r in valid]), strict=True
        ):
            if isinstance(answer, str):
                metrics.REQUESTS.labels("failed").inc()
                await self._reply(message, answer.encode(), error_headers(answer, 500))
                continue
            reply, neutral = answer
            if neutral:
                metrics.PREDICTIONS.labels("true").inc(neutral)
            if request.size > neutral:
                metrics.PREDICTIONS.labels("false").inc(request.size - neutral)
            metrics.REQUESTS.labels("answered").inc()
            await self._reply(message, reply)
            metrics.PREDICT_SECONDS.observe(time.perf_counter() - start)

    def _score(self, requests: list[MlPredictRequest]) -> list[tuple[bytes, int] | str]:
        """Each request's reply (and its neutral predictions), or why it has none."""
        try:
            return list(self.slot.answer_many(requests))
        except Exception:
            if len(requests) == 1:
                log.exception("ml.predict request failed to score")
                return ["the ml service failed to score the request"]
        return [answer for request in requests for answer in self._score([request])]

    async def _reply(
        self, message: Msg, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        if message.reply:  # a request without a reply subject is scored for nobody
            await self.connection.publish(message.reply, data, headers=headers)


def build_router(broker: NatsBroker, slot: ScorerSlot, config: StrategyConfig) -> NatsRouter:
    """The FastStream subscribers: `ml.models.updated` (`ml.predict` is `PredictResponder`)."""
    router = NatsRouter()

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
