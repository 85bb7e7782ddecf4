"""`/ws`: accept the socket and run a `Connection` for it (docs/api.md, "WebSocket")."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from swingflow_gateway.resources import Resources
from swingflow_gateway.ws.connection import Connection

router = APIRouter()


@router.websocket("/ws")
async def websocket(socket: WebSocket) -> None:
    resources: Resources = socket.app.state.resources
    settings = resources.settings
    await socket.accept()
    connection = Connection(resources.hub, socket, settings.ws_queue_size, settings.ws_max_channels)
    await connection.serve()
