"""signals' handlers: candidates in batches (one durable shared by every replica, pulled by
`bus.pull.BatchConsumer`), and weight updates (core NATS, every replica hears each one).

The candidate handler applies the delivery rules by hand because a batch shares one ML
request and one write: bad messages are dead-lettered and acked, the rest judged
together; if that raises, each is retried on its own (nacked with a delay, at last
dead-lettered), so one poisonous candidate never holds back or redelivers its batch.

Every replica hears every weight update (no queue group), so an invalid update is
dead-lettered once per replica, each letter with the same reason. A model update
(`ml.models.updated`) only tells the ML client to ask the ml service again.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg

from swingflow_common import subjects
from swingflow_common.bus import dead_letter, decode_or_dead_letter, retry_or_dead_letter
from swingflow_common.bus.pull import PullSpec
from swingflow_common.config import ConfigError
from swingflow_common.messages import CandidateSignal, WeightsUpdated
from swingflow_signals import metrics
from swingflow_signals.judge import Item, Judge
from swingflow_signals.settings import Settings

SERVICE = "signals"

log = logging.getLogger("swingflow.signals")


async def _ack(raw: Msg) -> None:
    with suppress(Exception):  # acked already (nacked for a retry), or a test message
        await raw.ack()


async def judge_batch(broker: NatsBroker, judge: Judge, raws: list[Msg]) -> None:
    """Decode, judge together, and ack; on failure fall back to one candidate at a time."""
    items: list[Item] = []
    for raw in raws:
        candidate = await decode_or_dead_letter(broker, SERVICE, raw, CandidateSignal)
        if candidate is None:
            await _ack(raw)
        else:
            items.append((raw, candidate))
    try:
        await judge.judge(items)
    except Exception:
        log.warning("batch failed; judging its candidates one by one", exc_info=True)
        for raw, candidate in items:
            try:
                async with retry_or_dead_letter(broker, SERVICE, raw):
                    await judge.judge([(raw, candidate)], retrying=True)
            except Exception:
                continue  # nacked with a delay: it comes back
            await _ack(raw)
        return
    for raw, _ in items:
        await _ack(raw)


def candidates_spec(settings: Settings) -> PullSpec:
    """The durable consumer of candidates that every replica shares."""
    return PullSpec(
        subjects.CANDIDATES_ALL,
        "SIGNALS",
        settings.durable,
        batch_size=settings.batch_size,
        fetch_timeout=settings.fetch_timeout,
    )


def build_router(broker: NatsBroker, judge: Judge) -> NatsRouter:
    """The core NATS subscribers of weight and model updates (candidates come through
    `candidates_spec`)."""
    router = NatsRouter()

    @router.subscriber(subjects.ML_MODELS_UPDATED)
    async def on_model(message: NatsMessage) -> None:
        # only a cue to ask the ml service again: it reads (and dead-letters) the message
        judge.ml.models_updated()

    @router.subscriber(subjects.CONFIG_WEIGHTS_UPDATED)
    async def on_weights(message: NatsMessage) -> None:
        raw = message.raw_message
        update = await decode_or_dead_letter(broker, SERVICE, raw, WeightsUpdated)
        if update is None:
            metrics.WEIGHTS_UPDATES.labels("invalid").inc()
            return
        try:
            judge.weights.apply(update)
        except ConfigError as exc:
            metrics.WEIGHTS_UPDATES.labels("invalid").inc()
            reason = f"weights not applied, the old ones stay: {exc}"
            await dead_letter(broker, SERVICE, raw.subject, raw.data, reason)
            return
        metrics.WEIGHTS_UPDATES.labels("applied").inc()

    return router
