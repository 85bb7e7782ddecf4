"""`/ws` as a plain ASGI endpoint: accept the socket and run a `Connection` for it.

Not a Starlette `WebSocket` session: every frame the gateway sends goes straight out,
without the session's wrapper and checks, because with thousands of clients that
per-frame overhead is most of the fan-out's cost.

Straight out means, under uvicorn's default WebSocket protocol (websockets' sans-I/O
implementation), writing the frames' encoded bytes (`Frame.wire`, built once per
message; a client's batch of several joined) to the connection's transport: no
per-client frame object, encoding or coroutine. That is allowed only while the protocol
is open (handshake done, no close sent, not disconnected) and the transport is neither
closing nor over its high-water mark; otherwise, and under any other ASGI server, the
frames go one by one through the ASGI `send`, which also waits for a full transport to
drain (the `Connection`'s slow path). This module is the one place that knows those
uvicorn internals. Starlette's own layers wrap `send` in closures on its way to a route,
so `ServerSend`, the outermost middleware, hands the server's own `send` to the endpoint
in the scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, cast

from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from swingflow_gateway.resources import Resources
from swingflow_gateway.ws.connection import Connection

SERVER_SEND = "swingflow.server_send"  # the scope key `ServerSend` fills


class ServerSend:
    """Outermost middleware: keep the ASGI server's own `send` of a WebSocket in its scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


def _sansio_protocol(send: Send) -> Any | None:
    """The uvicorn protocol object behind `send`, when it is the sans-I/O websockets one."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError:  # pragma: no cover - another uvicorn, or no websockets library
        return None
    owner = getattr(send, "__self__", None)
    return owner if isinstance(owner, WebSocketsSansIOProtocol) else None


class RawSocket:
    """The calls a `Connection` makes: the ASGI messages, and a direct write when allowed."""

    def __init__(self, receive: Receive, send: Send, server_send: Send | None = None) -> None:
        self._receive = receive
        self._send = send
        self._protocol = _sansio_protocol(server_send or send)

    def write(self, data: bytes) -> bool:
        """Write encoded frames to the transport now, if allowed; False when not."""
        protocol = self._protocol
        if (
            protocol is None
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
        ):
            return False
        transport: asyncio.Transport = protocol.transport
        if transport.is_closing() or not protocol.writable.is_set():  # paused: over high water
            return False
        transport.write(data)
        return True

    def send_text(self, data: str) -> Coroutine[Any, Any, None]:
        # an ASGI server's `send` is a coroutine function: the call is run eagerly
        return cast(Coroutine[Any, Any, None], self._send({"type": "websocket.send", "text": data}))

    def receive(self) -> Awaitable[Any]:
        return self._receive()


class WebSocketEndpoint:
    """The ASGI app of `/ws`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        resources: Resources = scope["app"].state.resources
        settings = resources.settings
        socket = RawSocket(receive, send, scope.get(SERVER_SEND))
        await Connection(
            resources.hub, socket, settings.ws_queue_size, settings.ws_max_channels
        ).serve()


route = WebSocketRoute("/ws", WebSocketEndpoint())
