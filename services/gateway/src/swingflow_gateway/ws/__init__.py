"""The WebSocket fan-out: channels (pure), a connection per client, the hub, the endpoint."""
