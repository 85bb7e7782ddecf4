"""The gateway under test, in its own process: `python -m swingflow.bench.gateway_server`.

`--mode hub` serves the real app (`create_app`); `--mode naive` serves a baseline that
sends each NATS message to its clients one after another, awaiting each send, in the
NATS callback (the envelope built once, as in the hub). Both read NATS_URL and
DATABASE_URL from the environment and raise their open-file limit for many sockets.
"""

from __future__ import annotations

import argparse
import json
import resource
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import uvicorn
from nats.aio.msg import Msg
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from swingflow_common import subjects
from swingflow_common.messages import decode
from swingflow_common.settings import load_settings
from swingflow_gateway.app import create_app
from swingflow_gateway.settings import Settings
from swingflow_gateway.ws.channels import channels_for, envelope


def raise_fd_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def naive_app(nats_url: str) -> Starlette:
    clients: set[WebSocket] = set()

    async def fan_out(msg: Msg) -> None:
        message = decode(msg.data)
        channels = channels_for(msg.subject, message)
        if not channels:
            return
        frame = envelope(channels[0], message.type, msg.data.decode())  # type: ignore[attr-defined]
        for client in list(clients):
            try:
                await client.send_text(frame)  # each waits for the one before
            except Exception:
                clients.discard(client)

    async def endpoint(socket: WebSocket) -> None:
        await socket.accept()
        try:
            while True:
                frame = json.loads(await socket.receive_text())
                if frame.get("type") == "subscribe" and "signals" in frame.get("channels", ()):
                    clients.add(socket)
                    hello = {
                        "channel": "system",
                        "type": "hello",
                        "data": {"channels": ["signals"]},
                    }
                    await socket.send_text(json.dumps(hello))
        except WebSocketDisconnect:
            clients.discard(socket)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = await nats.connect(nats_url)
        await client.subscribe(subjects.SIGNALS_ALL, cb=fan_out)
        await client.flush()
        yield
        await client.drain()

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("hub", "naive"), default="hub")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    args = parser.parse_args()
    raise_fd_limit()
    settings = load_settings(Settings).model_copy(update={"port": args.port})
    app = (
        create_app(settings, warm_up=False) if args.mode == "hub" else naive_app(settings.nats_url)
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False,
                ws=args.ws, ws_per_message_deflate=False, backlog=4096)  # fmt: skip


if __name__ == "__main__":
    main()
