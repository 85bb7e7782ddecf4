"""The WebSocket over a real socket, fed by a real nats-server: routing and slow clients."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection, connect

from swingflow_common import subjects
from swingflow_common.bus import publish
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .factories import allocation, candidate, verdict
from .helpers import running

pytestmark = pytest.mark.integration
BATCH = 8


async def frame(ws: ClientConnection) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10.0))
    return result


async def subscribe(ws: ClientConnection, channels: list[str]) -> None:
    """Subscribe and wait for the server's hello that lists the channels."""
    await ws.send(json.dumps({"type": "subscribe", "channels": channels}))
    while True:
        got = await frame(ws)
        if got["type"] == "hello" and set(channels) <= set(got["data"]["channels"]):
            return


async def wait_ready(address: str) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{address}") as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready)


async def test_a_confirmed_signal_reaches_subscribers_only(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any
) -> None:
    app = create_app(make_settings(database_url, nats_url), warm_up=False)
    async with running(app) as address:
        await wait_ready(address)
        async with connect(f"ws://{address}/ws") as wants, connect(f"ws://{address}/ws") as other:
            assert (await frame(wants))["type"] == "hello"
            assert (await frame(other))["type"] == "hello"
            await subscribe(wants, ["signals"])
            await subscribe(other, ["allocations"])
            signal = verdict(candidate("AAPL", 9)).signal
            assert signal is not None
            await publish(js, subjects.confirmed("AAPL"), signal)
            await publish(js, subjects.ALLOCATIONS, allocation(9))
            got = await frame(wants)
            assert (got["channel"], got["type"]) == ("signals", "confirmed_signal")
            assert got["data"]["id"] == signal.id
            assert got["data"]["stages"][0]["stage"] == "base_signal"
            # the allocation was published after the signal: had `other` been sent the
            # signal, it would have come first
            first = await frame(other)
            assert (first["channel"], first["type"]) == ("allocations", "allocation")
            # under uvicorn every frame of these idle clients went out as the shared
            # encoded bytes, none through a per-client encode
            connections = app.state.resources.hub.connections
            assert len(connections) == 2
            assert all(c.written == c.sent > 0 for c in connections)


async def test_messages_that_arrive_together_go_to_each_client_in_one_write(
    database_url: str, nats_url: str, make_settings: Any
) -> None:
    burst = [candidate(f"S{i:02d}", i) for i in range(20)]

    async def publish_burst() -> None:
        client = await nats.connect(nats_url)
        for signal in burst:
            await client.publish(
                subjects.candidates(signal.symbol), signal.model_dump_json().encode()
            )
        await client.flush()
        await client.close()
        await asyncio.sleep(0.3)  # and nats-server has sent them on to the gateway

    app = create_app(make_settings(database_url, nats_url), warm_up=False)
    async with running(app) as address:
        await wait_ready(address)
        url = f"ws://{address}/ws"
        async with connect(url) as first, connect(url) as second, connect(url) as other:
            await subscribe(first, ["signals"])
            await subscribe(second, ["signals"])
            await subscribe(other, ["allocations"])
            hub = app.state.resources.hub
            writes = {c: c.writes for c in hub.connections}
            # the gateway runs in this loop: hold it while the burst reaches its NATS
            # socket, so that it reads the 20 messages at once when the loop resumes
            publisher = threading.Thread(target=asyncio.run, args=(publish_burst(),))
            publisher.start()
            publisher.join(30)
            for ws in (first, second):
                ids = [(await frame(ws))["data"]["id"] for _ in burst]
                assert ids == [signal.id for signal in burst]  # every one, in order
            listeners = [c for c in hub.connections if "signals" in c.channels]
            assert len(listeners) == 2
            for connection in listeners:  # fewer writes than frames: batched
                assert 1 <= connection.writes - writes[connection] < len(burst)
                assert connection.written == connection.sent
            (quiet,) = [c for c in hub.connections if c not in listeners]
            assert quiet.writes == writes[quiet]  # nothing for `allocations`


async def count_signals(
    ws: ClientConnection, wanted: int, tally: list[int] | None = None
) -> tuple[int, int]:
    """Read until `wanted` signals were received or reported dropped: (received, dropped).

    `tally`, when given, holds the running counts [received, dropped].
    """
    got, dropped = 0, 0
    while got + dropped < wanted:
        message = await frame(ws)
        got += message["type"] == "candidate_signal"
        dropped += message["data"]["count"] if message["type"] == "dropped" else 0
        if tally is not None:
            tally[:] = [got, dropped]
    return got, dropped


def tiny_socket(address: str) -> socket.socket:
    """A client socket with a 4 KiB receive buffer, so a client that stops reading is slow."""
    host, port = address.split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def test_a_client_that_stops_reading_loses_old_frames_not_the_others(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any
) -> None:
    settings = make_settings(database_url, nats_url, ws_queue_size=16)
    published = 200
    big = candidate("AAPL", 1).model_copy(
        update={"features": {f"f{i}": float(i) for i in range(3000)}}
    )
    payload = (
        big.model_dump_json().encode()
    )  # ~43 KB each, ~9 MB in all: more than the socket buffers hold
    async with running(create_app(settings, warm_up=False)) as address:
        await wait_ready(address)
        url = f"ws://{address}/ws"
        async with (
            connect(url, max_size=None) as fast,
            connect(url, sock=tiny_socket(address), max_queue=1, max_size=None) as slow,
        ):
            await subscribe(fast, ["signals"])
            await subscribe(slow, ["signals"])
            tally = [0, 0]
            fast_reader = asyncio.create_task(count_signals(fast, published, tally))
            client = await nats.connect(nats_url)
            for sent in range(BATCH, published + 1, BATCH):
                for _ in range(BATCH):  # a pace the fast client follows, half its queue
                    await client.publish(subjects.candidates("AAPL"), payload)
                await client.flush()
                await eventually(lambda: sum(tally) >= sent, within=30)  # noqa: B023
            await client.close()
            fast_got, fast_dropped = await fast_reader  # the fast one reads as they come
            slow_got, dropped = await count_signals(slow, published)
    assert (fast_got, fast_dropped) == (published, 0)
    assert dropped > 0
    assert slow_got + dropped == published  # every frame was either sent or counted
