"""Structured JSON logs and the Prometheus metrics every service shares.

Logging is the standard library's with a small JSON formatter written here: no JSON
logging package is in the pinned set, and thirty lines do not justify one. Each record is
one JSON object per line (`ts`, `level`, `logger`, `msg`, `service`, and every `extra=`
field), so `jq` and any log shipper read it as is.

The metric objects live on the default `prometheus_client` registry, which is also the
registry `make_broker` gives FastStream's middleware, so one `/metrics` endpoint per
process shows both. Their names are listed in docs/services.md.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)

DLQ_MESSAGES = Counter(
    "swingflow_dlq_messages",
    "Messages a service rejected to its dead-letter subject.",
    ["service", "reason_kind"],
)
MESSAGES_HANDLED = Counter(
    "swingflow_messages_handled",
    "Messages a handler finished, by outcome (ok, or error when it raised).",
    ["service", "handler", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "swingflow_handler_duration_seconds",
    "Time a handler spent on one message.",
    ["service", "handler"],
)
PUBLISHED = Counter(
    "swingflow_published_messages",
    "Messages published to JetStream, by stream and whether the server dropped a duplicate.",
    ["stream", "duplicate"],
)
SERVICE_READY = Gauge(
    "swingflow_service_ready",
    "1 once the service is connected and consuming, 0 while starting or stopping "
    "(what `swingflow up` shows as health).",
    ["service"],
)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; `extra=` fields become top-level keys."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(
    level: str = "INFO", service: str | None = None, stream: IO[str] | None = None
) -> None:
    """Send every log record to `stream` (stderr) as JSON lines, at `level` and above.

    Calling it again replaces the handler it installed before, so it is safe in tests.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_swingflow", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler._swingflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


@dataclass
class MetricsServer:
    """A running `/metrics` HTTP endpoint; `port` is the one actually bound."""

    port: int
    _server: Any

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_metrics_server(
    port: int, addr: str | None = None, registry: CollectorRegistry = REGISTRY
) -> MetricsServer:
    """Serve the Prometheus text format on `addr:port` from a daemon thread (port 0: any).

    `addr` defaults to `$METRICS_ADDR`, else 127.0.0.1: on one machine nothing else needs
    it, while in a container Prometheus scrapes from another one (`METRICS_ADDR=0.0.0.0`).
    """
    addr = addr or os.environ.get("METRICS_ADDR", "").strip() or "127.0.0.1"
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return MetricsServer(port=int(server.server_port), _server=server)


@contextmanager
def track_handler(service: str, handler: str) -> Iterator[None]:
    """Time one message's handling and count it as `ok`, or `error` when it raises.

    For plain nats-py consumers; FastStream handlers get the same from its middleware.
    Dead letters are counted by `bus.dead_letter` itself.
    """
    start = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Exception:
        outcome = "error"
        raise
    finally:
        HANDLER_SECONDS.labels(service, handler).observe(time.perf_counter() - start)
        MESSAGES_HANDLED.labels(service, handler, outcome).inc()
