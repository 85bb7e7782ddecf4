"""The pattern every service copies (docs/services.md): a durable JetStream consumer that
decodes raw bytes with `messages.decode`, dead-letters bad data with its reason and acks it,
and lets a transient fault be redelivered, up to a limit, then dead-letters it too."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from faststream.nats import NatsBroker, NatsRouter, TestNatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from swingflow_common import subjects
from swingflow_common.bus import (
    decode_or_dead_letter,
    delivery_count,
    durable_subscriber,
    ensure_streams,
    make_broker,
    publish,
    publish_bytes,
    retry_or_dead_letter,
)
from swingflow_common.messages import Bar, DeadLetter, Tick
from swingflow_common.settings import CommonSettings
from swingflow_common.testing import eventually

T0 = datetime(2024, 3, 1, tzinfo=UTC)
BAD_BAR = (b'{"type": "bar", "schema_version": 1, "symbol": "AAPL", "interval": "1d", '
           b'"ts": "2024-03-04T00:00:00Z", "open": 10, "high": 9, "low": 11, "close": 10, '
           b'"volume": 5}')  # fmt: skip


def bar(day: int) -> Bar:
    return Bar(symbol="AAPL", ts=T0 + timedelta(days=day), open=10, high=11, low=9, close=10.5,
               volume=1000)  # fmt: skip


class Flaky:
    """A stand-in for the domain call: fails the first `failures` deliveries of each bar."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.handled: list[Bar] = []
        self.deliveries: dict[datetime, int] = {}

    async def __call__(self, bar: Bar) -> None:
        seen = self.deliveries[bar.ts] = self.deliveries.get(bar.ts, 0) + 1
        if seen <= self.failures:
            raise ConnectionError("database is locked")
        self.handled.append(bar)


def bar_router(broker: NatsBroker, service: str, domain: Flaky, max_deliver: int = 5) -> NatsRouter:
    """What a service's handlers.py holds: one ~10-line handler on a URL-less router.

    Dependencies (the broker to dead-letter through, the domain) come in by closure: a
    FastStream `Context` parameter costs a thread hop per message in FastStream 0.7.8.
    """
    router = NatsRouter()

    @durable_subscriber(router, subjects.BARS_ALL, "MARKET", f"{service}-bars",
                        max_deliver=max_deliver, fetch_timeout=0.2)  # fmt: skip
    async def on_bar(message: NatsMessage) -> None:
        raw = message.raw_message
        bar = await decode_or_dead_letter(broker, service, raw, Bar)
        if bar is None:
            return  # dead-lettered with its reason; returning acks it
        async with retry_or_dead_letter(broker, service, raw, max_deliver, (0.05,)):
            await domain(bar)

    return router


Build = Callable[[NatsBroker], NatsRouter]


@asynccontextmanager
async def running(nats_url: str, build: Build, service: str) -> AsyncIterator[None]:
    broker = make_broker(CommonSettings(nats_url=nats_url), service=service)
    broker.include_router(build(broker))
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()


async def dead_letters(js: JetStreamContext, service: str) -> list[DeadLetter]:
    info = await js.stream_info("DLQ")
    letters = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        stored = await js.get_msg("DLQ", seq)
        if stored.subject == subjects.dlq(service):
            letters.append(DeadLetter.model_validate_json(stored.data or b""))
    return letters


def dlq_count(service: str, kind: str) -> float:
    labels = {"service": service, "reason_kind": kind}
    return REGISTRY.get_sample_value("swingflow_dlq_messages_total", labels) or 0.0


def new_service() -> str:
    return f"svc{uuid.uuid4().hex[:8]}"


def letters_are(js: JetStreamContext, service: str, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await dead_letters(js, service)) == n

    return check


def all_acked(js: JetStreamContext, service: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        info = await js.consumer_info("MARKET", f"{service}-bars")
        return bool(info.num_ack_pending == 0 and info.num_pending == 0)

    return check


async def test_malformed_bar_between_two_valid_ones_is_dead_lettered(
    js: JetStreamContext, nats_url: str
) -> None:
    await ensure_streams(js)
    service, domain = new_service(), Flaky()
    await publish(js, subjects.bars("AAPL"), bar(0))
    await publish_bytes(js, subjects.bars("AAPL"), BAD_BAR)
    await publish(js, subjects.bars("AAPL"), bar(1))

    async with running(nats_url, lambda b: bar_router(b, service, domain), service):
        await eventually(lambda: len(domain.handled) == 2)
        await eventually(letters_are(js, service, 1))
        await eventually(all_acked(js, service))

    assert [b.ts for b in domain.handled] == [bar(0).ts, bar(1).ts]
    [letter] = await dead_letters(js, service)
    assert letter.subject == subjects.bars("AAPL")
    assert "high 9.0 is below low 11.0" in letter.reason
    assert letter.payload.encode() == BAD_BAR
    assert dlq_count(service, "invalid_message") == 1


async def test_not_json_and_wrong_type_are_dead_lettered_with_their_kind(
    js: JetStreamContext, nats_url: str
) -> None:
    await ensure_streams(js)
    service, domain = new_service(), Flaky()
    await publish_bytes(js, subjects.bars("AAPL"), b"\xff not json")
    await publish(js, subjects.bars("AAPL"), Tick(symbol="AAPL", ts=T0, price=10, size=1))

    async with running(nats_url, lambda b: bar_router(b, service, domain), service):
        await eventually(letters_are(js, service, 2))

    # The consumer may finish the two in either order; each must be there with its reason.
    reasons = sorted(letter.reason for letter in await dead_letters(js, service))
    assert len(reasons) == 2
    assert reasons[0] == f"expected a Bar on {subjects.bars('AAPL')}, got Tick"
    assert "Invalid JSON" in reasons[1]
    assert dlq_count(service, "invalid_json") == 1
    assert dlq_count(service, "unexpected_type") == 1
    assert domain.handled == []


async def test_transient_failure_is_redelivered_and_then_handled(
    js: JetStreamContext, nats_url: str
) -> None:
    await ensure_streams(js)
    service, domain = new_service(), Flaky(failures=2)
    await publish(js, subjects.bars("AAPL"), bar(0))

    async with running(nats_url, lambda b: bar_router(b, service, domain), service):
        await eventually(lambda: len(domain.handled) == 1)

    assert domain.deliveries[bar(0).ts] == 3
    assert await dead_letters(js, service) == []


async def test_failure_on_every_delivery_ends_in_the_dlq_not_in_a_loop(
    js: JetStreamContext, nats_url: str
) -> None:
    await ensure_streams(js)
    service, domain = new_service(), Flaky(failures=1000)
    await publish(js, subjects.bars("AAPL"), bar(0))

    async with running(nats_url, lambda b: bar_router(b, service, domain, 3), service):
        await eventually(letters_are(js, service, 1))
        await eventually(all_acked(js, service))

    [letter] = await dead_letters(js, service)
    assert letter.reason.startswith("gave up after 3 deliveries: ConnectionError")
    assert domain.deliveries[bar(0).ts] == 3
    assert dlq_count(service, "gave_up") == 1


async def test_handler_runs_in_memory_under_test_broker() -> None:
    """Handler tests need no server: the same router on TestNatsBroker."""
    service, domain = new_service(), Flaky()
    broker = make_broker(CommonSettings(), service=service)
    broker.include_router(bar_router(broker, service, domain))
    dlq = NatsRouter()
    letters: list[bytes] = []

    @durable_subscriber(dlq, subjects.dlq(service), "DLQ", f"{service}-dlq")
    async def on_letter(message: NatsMessage) -> None:
        letters.append(message.body)

    broker.include_router(dlq)
    async with TestNatsBroker(broker) as test_broker:
        await publish(test_broker, subjects.bars("AAPL"), bar(0))
        await publish_bytes(test_broker, subjects.bars("AAPL"), BAD_BAR)

    assert domain.handled == [bar(0)]
    [letter] = [DeadLetter.model_validate_json(body) for body in letters]
    assert "high 9.0 is below low 11.0" in letter.reason


def test_a_core_nats_message_counts_as_its_first_delivery() -> None:
    assert delivery_count(Msg(_client=None, subject="ml.x", data=b"")) == 1  # type: ignore[arg-type]
