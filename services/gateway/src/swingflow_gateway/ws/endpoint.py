"""`/ws` as a plain ASGI endpoint: accept the socket and run a `Connection` for it.

Not a Starlette `WebSocket` session: every frame the gateway sends goes straight to the
ASGI server's `send`, without the session's wrapper and checks, because with thousands
of clients that per-frame overhead is most of the fan-out's cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine
from typing import Any, cast

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

from swingflow_gateway.resources import Resources
from swingflow_gateway.ws.connection import Connection


class RawSocket:
    """The two calls a `Connection` makes, as the ASGI messages themselves."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

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
        socket = RawSocket(receive, send)
        await Connection(
            resources.hub, socket, settings.ws_queue_size, settings.ws_max_channels
        ).serve()


route = WebSocketRoute("/ws", WebSocketEndpoint())
