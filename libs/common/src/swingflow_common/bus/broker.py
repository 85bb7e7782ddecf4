"""The FastStream side: a configured `NatsBroker` and the durable-consumer options.

    broker = make_broker(settings, service="scanner")
    broker.include_router(router)                  # handlers live on a NatsRouter

    @durable_subscriber(router, subjects.BARS_ALL, "MARKET", "scanner-bars")
    async def on_bar(message: NatsMessage, broker: NatsBroker) -> None: ...

Streams are declared by `ensure_streams` only: `durable_subscriber` refers to a stream with
`declare=False`, so FastStream never creates or rewrites one with other settings.
"""

from __future__ import annotations

import logging
from typing import Any

from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.broker.registrator import NatsRegistrator
from faststream.nats.prometheus import NatsPrometheusMiddleware
from faststream.nats.subscriber.usecases.stream_pull_subscriber import (
    PullStreamSubscriber,
)
from nats.js import JetStreamContext
from prometheus_client import REGISTRY, CollectorRegistry

from swingflow_common.bus.dead_letter import MAX_DELIVER
from swingflow_common.settings import CommonSettings

ACK_WAIT = 30.0  # seconds a consumer has to ack before the server redelivers


async def raw_body(message: StreamMessage[Any]) -> bytes:
    """The message's body as it came: FastStream's decoder for our brokers.

    FastStream's default decoder parses every body with the standard library's `json`
    before the handler runs, even when the handler takes only the `NatsMessage` and
    validates the bytes itself, as every handler here does (`decode`, pydantic's Rust
    JSON parser): 6 ms thrown away for each 64-candidate `ml.predict` request."""
    body: bytes = message.body
    return body


def make_broker(
    settings: CommonSettings,
    service: str,
    registry: CollectorRegistry = REGISTRY,
    **broker_options: Any,
) -> NatsBroker:
    """A NatsBroker for `settings.nats_url`, its metrics on `registry` under `service`.

    FastStream's own log lines go through the standard logging tree (so they come out as
    JSON with ours), and its one-line-per-message logs are at DEBUG, not INFO. Bodies are
    not parsed by FastStream (`raw_body`): a handler takes `message: NatsMessage` and
    decodes `message.raw_message.data` into the message it expects.
    """
    broker_options.setdefault("logger", logging.getLogger(f"swingflow.{service}.broker"))
    broker_options.setdefault("log_level", logging.DEBUG)
    broker_options.setdefault("decoder", raw_body)
    return NatsBroker(
        settings.nats_servers,
        name=f"swingflow-{service}",
        middlewares=[NatsPrometheusMiddleware(registry=registry, app_name=service)],
        **broker_options,
    )


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """The nats-py JetStreamContext of a connected broker (for `ensure_streams`, `publish`)."""
    js: JetStreamContext = broker.config.connection_state.stream
    return js


def durable_subscriber(
    registrar: NatsRegistrator,
    subject: str,
    stream: str,
    durable: str,
    max_deliver: int = MAX_DELIVER,
    ack_wait: float = ACK_WAIT,
    batch_size: int = 16,
    fetch_timeout: float = 1.0,
) -> PullStreamSubscriber:
    """A JetStream pull consumer named `durable` on `subject`, for a router or a broker.

    Use it as the handler's decorator. Replicas of a service that use the same `durable`
    share its messages (each message goes to one replica). A handler that raises is
    nacked (`NACK_ON_ERROR`); the server stops after `max_deliver` deliveries, so wrap the
    work in `retry_or_dead_letter` to keep the last failure in the DLQ.
    """
    return registrar.subscriber(
        subject,
        stream=JStream(stream, declare=False),
        durable=durable,
        config=ConsumerConfig(durable_name=durable, max_deliver=max_deliver, ack_wait=ack_wait),
        pull_sub=PullSub(batch_size=batch_size, timeout=fetch_timeout),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
