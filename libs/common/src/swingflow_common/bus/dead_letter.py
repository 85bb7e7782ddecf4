"""Dead letters: a message a service cannot use goes to `dlq.<service>` with the reason.

The rules every consumer follows (docs/services.md, "How a service is built"):
- bad data (not JSON, fails validation, wrong message type for the subject) is never
  retried: `decode_or_dead_letter` publishes it to the DLQ and the handler returns, which
  acks it;
- a transient fault (database locked, NATS timeout) raises, the message is nacked and
  redelivered after a growing delay, at most `MAX_DELIVER` times; `retry_or_dead_letter`
  does that and turns the last failure into a dead letter, so nothing is dropped silently.

Every dead letter is logged and counted in `swingflow_dlq_messages_total{service,reason_kind}`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Literal, TypeVar

from nats.aio.msg import Msg
from nats.js.api import PubAck
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.bus.publish import Target, publish
from swingflow_common.messages import DeadLetter, Message, decode
from swingflow_common.observability import DLQ_MESSAGES

log = logging.getLogger(__name__)

ReasonKind = Literal["invalid_json", "invalid_message", "unexpected_type", "gave_up"]
MAX_DELIVER = 5  # deliveries of one message before it is dead-lettered
RETRY_DELAYS = (0.5, 2.0, 5.0, 10.0)  # seconds before redelivery 1, 2, 3, 4...
MAX_REASON = 1000

M = TypeVar("M", bound=Message)


def describe(exc: ValidationError) -> str:
    """A one-line reason from a validation error: `field: problem; field: problem`."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)[:MAX_REASON]


def kind_of(exc: ValidationError) -> ReasonKind:
    return (
        "invalid_json"
        if any(e["type"] == "json_invalid" for e in exc.errors())
        else ("invalid_message")
    )


async def dead_letter(
    target: Target,
    service: str,
    subject: str,
    payload: bytes,
    reason: str,
    kind: ReasonKind = "invalid_message",
) -> PubAck | None:
    """Publish a `DeadLetter` on `dlq.<service>`, log it and count it."""
    letter = DeadLetter(
        service=service,
        subject=subject,
        reason=reason[:MAX_REASON],
        payload=payload.decode("utf-8", errors="backslashreplace"),
    )
    DLQ_MESSAGES.labels(service, kind).inc()
    log.warning(
        "dead letter", extra={"dlq_subject": subject, "reason": letter.reason, "kind": kind}
    )
    return await publish(target, subjects.dlq(service), letter)


async def decode_or_dead_letter(
    target: Target, service: str, msg: Msg, expected: type[M]
) -> M | None:
    """The message in `msg` as an `expected`, or None after dead-lettering it.

    `msg` is the nats-py message: FastStream handlers pass `message.raw_message`.
    """
    try:
        message = decode(msg.data)
    except ValidationError as exc:
        await dead_letter(target, service, msg.subject, msg.data, describe(exc), kind_of(exc))
        return None
    if not isinstance(message, expected):
        reason = f"expected a {expected.__name__} on {msg.subject}, got {type(message).__name__}"
        await dead_letter(target, service, msg.subject, msg.data, reason, "unexpected_type")
        return None
    return message


def delivery_count(msg: Msg) -> int:
    """How many times JetStream has delivered this message (1 for a core NATS message)."""
    try:
        return int(msg.metadata.num_delivered)
    except Exception:  # core NATS or test messages carry no JetStream metadata
        return 1


@asynccontextmanager
async def retry_or_dead_letter(
    target: Target,
    service: str,
    msg: Msg,
    max_deliver: int = MAX_DELIVER,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> AsyncIterator[None]:
    """Turn a failure inside the block into a delayed redelivery, or at last a dead letter.

    Before the last delivery the message is nacked with a growing delay (`retry_delays`)
    and the exception goes on, so FastStream logs and counts it. On the last delivery the
    failure is dead-lettered with kind `gave_up` and swallowed: the handler returns, the
    message is acked, and nothing is lost silently.
    """
    try:
        yield
    except Exception as exc:
        delivered = delivery_count(msg)
        if delivered < max_deliver:
            delay = retry_delays[min(delivered, len(retry_delays)) - 1] if retry_delays else 0
            with suppress(Exception):  # already acked, or a core NATS message: nothing to nak
                await msg.nak(delay=delay)
            raise
        reason = f"gave up after {delivered} deliveries: {type(exc).__name__}: {exc}"
        log.exception("giving up on a message", extra={"dlq_subject": msg.subject})
        await dead_letter(target, service, msg.subject, msg.data, reason, "gave_up")


async def handle_each(
    target: Target,
    service: str,
    messages: Sequence[Msg],
    expected: type[M],
    handle: Callable[[M], Awaitable[None]],
    max_deliver: int = MAX_DELIVER,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> int:
    """Apply the delivery rules to each message of a batch on its own; returns how many
    were handled. Each is acked when handled or dead-lettered, or nacked for a retry, so
    one bad or failing message never holds back, or redelivers, the rest of its batch."""
    handled = 0
    for raw in messages:
        item = await decode_or_dead_letter(target, service, raw, expected)
        if item is not None:
            try:
                async with retry_or_dead_letter(target, service, raw, max_deliver, retry_delays):
                    await handle(item)
                    handled += 1
            except Exception:
                log.warning("will retry a message", exc_info=True, extra={"subject": raw.subject})
                continue  # nacked with a delay by retry_or_dead_letter
        with suppress(Exception):  # a test message, or one acked already
            await raw.ack()
    return handled
