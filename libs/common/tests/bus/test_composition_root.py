"""A service's app.py: settings -> broker -> streams -> router -> FastStream app."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream import FastStream
from faststream.nats import NatsBroker, NatsRouter, TestApp
from faststream.nats.annotations import NatsMessage
from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.bus import (
    decode_or_dead_letter,
    durable_subscriber,
    ensure_streams,
    jetstream,
    make_broker,
    publish,
)
from swingflow_common.messages import Bar
from swingflow_common.settings import CommonSettings
from swingflow_common.testing import eventually

SERVICE = "example"


def build_router(broker: NatsBroker, seen: list[Bar]) -> NatsRouter:
    router = NatsRouter()

    @durable_subscriber(router, subjects.BARS_ALL, "MARKET", f"{SERVICE}-bars", fetch_timeout=0.2)
    async def on_bar(message: NatsMessage) -> None:
        bar = await decode_or_dead_letter(broker, SERVICE, message.raw_message, Bar)
        if bar is not None:
            seen.append(bar)

    return router


def build_app(settings: CommonSettings, seen: list[Bar]) -> FastStream:
    broker = make_broker(settings, SERVICE)
    broker.include_router(build_router(broker, seen))
    app = FastStream(broker)

    @app.on_startup
    async def declare_streams() -> None:
        await broker.connect()  # the consumers need their streams before the broker starts
        await ensure_streams(jetstream(broker))

    return app


async def test_app_declares_its_streams_then_consumes(js: JetStreamContext, nats_url: str) -> None:
    seen: list[Bar] = []
    bar = Bar(symbol="AAPL", ts=datetime(2024, 3, 1, tzinfo=UTC), open=10, high=11, low=9,
              close=10, volume=1)  # fmt: skip

    async with TestApp(build_app(CommonSettings(nats_url=nats_url), seen)):
        await publish(js, subjects.bars("AAPL"), bar)
        await eventually(lambda: seen == [bar])

    assert {info.config.name for info in await js.streams_info()} >= {"MARKET", "DLQ"}


async def test_faststream_hands_the_body_over_unparsed(nats_url: str) -> None:
    """The handlers validate the bytes themselves: FastStream's own JSON parse of every
    body (the standard library's, 6 ms for a 64-candidate request) is skipped."""
    import nats

    bodies: list[object] = []
    broker = make_broker(CommonSettings(nats_url=nats_url), SERVICE)

    @broker.subscriber("example.echo")
    async def on_echo(message: NatsMessage) -> bytes:
        bodies.append(await message.decode())
        return message.raw_message.data

    payload = b'{"a": [1.5, 2.5], "b": null}'
    async with TestApp(FastStream(broker)):
        client = await nats.connect(nats_url)
        answer = await client.request("example.echo", payload, timeout=5)
        await client.drain()

    assert answer.data == payload
    assert bodies == [payload]  # the bytes, not the dict the default decoder would give
