"""The gateway's own Prometheus metrics (beside `swingflow_service_ready` and the shared ones).

- `swingflow_gateway_ws_clients`: WebSocket clients connected now;
- `swingflow_gateway_ws_dropped_messages_total`: frames dropped from slow clients' queues;
- `swingflow_gateway_ws_fanouts_total`: fan-outs, each of the messages that arrived in
  one turn of the event loop (events / fan-outs = messages per client write: above 1
  when the gateway had fallen behind and caught up);
- `swingflow_gateway_ws_disconnects_total{reason}`: connections the server closed
  (`send_timeout`: the client stopped reading);
- `swingflow_gateway_events_total{channel}`: NATS messages fanned out, by channel kind;
- `swingflow_gateway_invalid_events_total`: NATS messages not forwarded (invalid, or on
  the wrong subject for their type);
- `swingflow_gateway_http_request_duration_seconds{method,route,status}`: REST latency.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SERVICE = "gateway"

WS_CLIENTS = Gauge("swingflow_gateway_ws_clients", "WebSocket clients connected now.")
WS_DROPPED = Counter(
    "swingflow_gateway_ws_dropped_messages",
    "Frames dropped from slow WebSocket clients' queues, oldest first.",
)
WS_FANOUTS = Counter(
    "swingflow_gateway_ws_fanouts",
    "Fan-outs to the WebSocket clients, each of the messages that arrived in one loop turn.",
)
WS_DISCONNECTS = Counter(
    "swingflow_gateway_ws_disconnects",
    "WebSocket connections the server closed, by reason.",
    ["reason"],
)
EVENTS = Counter(
    "swingflow_gateway_events",
    "NATS messages fanned out to WebSocket clients, by channel kind.",
    ["channel"],
)
INVALID_EVENTS = Counter(
    "swingflow_gateway_invalid_events",
    "NATS messages not forwarded: not a valid message, or not on its type's subject.",
)
HTTP_SECONDS = Histogram(
    "swingflow_gateway_http_request_duration_seconds",
    "Time to answer one REST request, by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
