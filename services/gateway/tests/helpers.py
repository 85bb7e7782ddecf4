"""Serving the app in tests: in-process over ASGI (`serve`) or on a real socket (`running`).

`serve(app)` runs the app's lifespan and gives an httpx client on the ASGI app (no
socket); `running(app)` runs it in uvicorn on a free port, for WebSocket clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from swingflow_common.bus import free_port

TOKEN = "test-token-3f9a"
CLOSED_NATS = "nats://127.0.0.1:9"  # nothing listens there: NATS stays down


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@asynccontextmanager
async def running(app: FastAPI, **options: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in this loop; yields `host:port`."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            ws_per_message_deflate=False, lifespan="on", **options)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
