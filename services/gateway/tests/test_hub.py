"""The hub and a connection with hand-written fake sockets: fan-out, drops, bad frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from prometheus_client import REGISTRY

from swingflow_common import subjects
from swingflow_common.testing import eventually
from swingflow_gateway.ws.connection import Connection
from swingflow_gateway.ws.hub import BATCH_BYTES, Hub

from .factories import bars, candidate


def unframe(wire: bytes) -> list[str]:
    """The texts of the unmasked server frames in `wire`, which holds whole frames only
    (a test's own reading of RFC 6455, 5.2)."""
    texts = []
    while wire:
        assert wire[0] == 0x81  # FIN, text
        size, start = wire[1], 2
        if size == 126:
            size, start = int.from_bytes(wire[2:4], "big"), 4
        elif size == 127:
            size, start = int.from_bytes(wire[2:10], "big"), 10
        assert len(wire) >= start + size
        texts.append(wire[start : start + size].decode())
        wire = wire[start + size :]
    return texts


class FakeSocket:
    """Records what the server sends; `gate` (when set) holds every send until opened.

    With `direct`, frames are taken as bytes through `write` while the gate is open (as a
    transport with room); otherwise, and while gated, through `send_text`. `writes` keeps
    the bytes of each write.
    """

    def __init__(self, gated: bool = False, direct: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gate = asyncio.Event()
        self.direct = direct
        self.written = 0  # frames taken by `write`
        self.writes: list[bytes] = []
        if not gated:
            self.gate.set()

    def write(self, data: bytes) -> bool:
        if not (self.direct and self.gate.is_set()):
            return False
        texts = unframe(data)
        self.sent += [json.loads(text) for text in texts]
        self.written += len(texts)
        self.writes.append(data)
        return True

    async def send_text(self, data: str) -> None:
        await self.gate.wait()
        self.sent.append(json.loads(data))

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    def say(self, frame: object) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    def leave(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.sent if frame["type"] == kind]


def fanout_count() -> float:
    return REGISTRY.get_sample_value("swingflow_gateway_ws_fanouts_total") or 0.0


async def connect(hub: Hub, socket: FakeSocket, channels: list[str], queue: int = 256) -> Any:
    connection = Connection(hub, socket, queue_size=queue, max_channels=10)
    task = asyncio.create_task(connection.serve())
    socket.say({"type": "subscribe", "channels": channels})
    await eventually(lambda: set(channels) <= connection.channels or not channels)
    return connection, task


async def test_a_slow_client_drops_its_oldest_frames_and_never_delays_a_fast_one() -> None:
    hub = Hub()
    fast, slow = FakeSocket(direct=True), FakeSocket(gated=True, direct=True)
    _, fast_task = await connect(hub, fast, ["bars:AAPL"])
    slow_conn, slow_task = await connect(hub, slow, ["bars:AAPL"], queue=8)
    series = bars("AAPL", 50)
    for bar in series:
        hub.publish_message(subjects.bars("AAPL"), bar.model_dump_json().encode())
    await eventually(lambda: len(fast.of("bar")) == 50)  # while the slow one sends nothing
    assert slow.sent == []
    assert fast.written == len(fast.sent) == 52  # every frame as bytes, none queued
    # 52 frames (hello, the hello after subscribing, 50 bars): the first is in flight in the
    # blocked send, the last 8 are queued, the 43 between them were dropped
    assert slow_conn.dropped == 43
    slow.gate.set()
    await eventually(lambda: len(slow.of("bar")) == 8)
    assert slow.of("dropped") == [{"channel": "system", "type": "dropped", "data": {"count": 43}}]
    assert [f["data"]["close"] for f in slow.of("bar")] == [b.close for b in series[-8:]]
    assert [f["data"]["close"] for f in fast.of("bar")] == [b.close for b in series]
    fast.leave()
    slow.leave()
    await asyncio.gather(fast_task, slow_task)
    assert hub.connections == set()


async def test_messages_of_one_loop_turn_reach_each_client_in_one_write_in_order() -> None:
    hub = Hub()
    first, second, other = (FakeSocket(direct=True) for _ in range(3))
    tasks = [
        (await connect(hub, first, ["bars:AAPL", "signals"]))[1],
        (await connect(hub, second, ["bars:AAPL", "signals"]))[1],
        (await connect(hub, other, ["bars:MSFT"]))[1],
    ]
    before = [len(s.writes) for s in (first, second, other)]
    fanouts = fanout_count()
    aapl, msft, signal = bars("AAPL", 2), bars("MSFT", 1)[0], candidate("AAPL", 4)
    burst = [(subjects.bars("AAPL"), aapl[0]), (subjects.candidates("AAPL"), signal),
             (subjects.bars("MSFT"), msft), (subjects.bars("AAPL"), aapl[1])]  # fmt: skip
    for subject, message in burst:
        hub.publish_message(subject, message.model_dump_json().encode())
    assert [len(s.writes) for s in (first, second, other)] == before  # not before the turn ends
    await eventually(lambda: len(first.of("bar")) == 2 and len(other.of("bar")) == 1)
    assert [len(s.writes) for s in (first, second, other)] == [n + 1 for n in before]
    assert fanout_count() == fanouts + 1  # the metric behind messages per client write
    order = [("bar", aapl[0]), ("candidate_signal", signal), ("bar", aapl[1])]
    assert [(f["type"], f["data"]) for f in first.sent[-3:]] == [
        (kind, json.loads(m.model_dump_json())) for kind, m in order
    ]
    assert second.writes[-1] is first.writes[-1]  # the same batch joined once for both
    assert [f["data"]["symbol"] for f in other.sent[-1:]] == ["MSFT"]
    for socket in (first, second, other):
        socket.leave()
    await asyncio.gather(*tasks)


async def test_a_burst_goes_out_in_writes_no_larger_than_a_batch() -> None:
    hub = Hub()
    socket = FakeSocket(direct=True)
    _, task = await connect(hub, socket, ["bars:AAPL"])
    before = len(socket.writes)
    series = bars("AAPL", 600)  # about 200 KB of frames in one turn of the loop
    frames = [bar.model_dump_json().encode() for bar in series]
    for data in frames:
        hub.publish_message(subjects.bars("AAPL"), data)
    during = len(socket.writes) - before
    assert during >= 2  # full batches went out while the burst was still being offered
    await eventually(lambda: len(socket.of("bar")) == len(series))
    largest_frame = max(len(f) for f in frames) + 200  # the envelope and header
    assert all(len(w) < BATCH_BYTES + largest_frame for w in socket.writes)
    assert len(socket.writes) - before == during + 1  # the rest at the end of the turn
    assert [f["data"]["close"] for f in socket.of("bar")] == [b.close for b in series]
    socket.leave()
    await task


async def test_only_subscribers_of_a_channel_receive_its_messages() -> None:
    hub = Hub()
    # the direct byte path and the ASGI text path side by side
    wants, others, wildcard = FakeSocket(direct=True), FakeSocket(), FakeSocket()
    tasks = [
        (await connect(hub, wants, ["signals", "bars:AAPL"]))[1],
        (await connect(hub, others, ["allocations", "bars:MSFT"]))[1],
        (await connect(hub, wildcard, ["bars:*", "bars:AAPL"]))[1],
    ]
    signal = candidate("AAPL", 3)
    hub.publish_message(subjects.candidates("AAPL"), signal.model_dump_json().encode())
    hub.publish_message(subjects.bars("AAPL"), bars("AAPL", 1)[0].model_dump_json().encode())
    await eventually(lambda: len(wants.of("bar")) == 1 and len(wildcard.of("bar")) == 1)
    assert [f["data"]["id"] for f in wants.of("candidate_signal")] == [signal.id]
    assert others.of("candidate_signal") == others.of("bar") == []
    assert wildcard.of("bar")[0]["channel"] == "bars:AAPL"  # once, though on two channels
    for socket in (wants, others, wildcard):
        socket.leave()
    await asyncio.gather(*tasks)


async def test_bad_client_frames_get_an_error_and_the_connection_stays() -> None:
    hub = Hub()
    socket = FakeSocket()
    connection, task = await connect(hub, socket, [])
    for frame in ("not json", "[1, 2]", {"type": "dance"}, {"type": "subscribe", "channels": 3},
                  {"type": "subscribe", "channels": ["news", "fills"]}, "x" * 70_000):  # fmt: skip
        socket.say(frame)
    socket.say({"type": "ping"})
    await eventually(lambda: len(socket.of("pong")) == 1)
    errors = [f["data"]["detail"] for f in socket.of("error")]
    assert len(errors) == 6
    assert "not JSON" in errors[0]
    assert "'news' is not a channel" in errors[4]
    assert connection.channels == {"fills"}  # the good channel of a mixed list is kept
    assert not task.done()
    socket.leave()
    await task


async def test_unsubscribe_stops_the_flow_and_hello_reports_the_channels() -> None:
    hub = Hub()
    socket = FakeSocket()
    connection, task = await connect(hub, socket, ["signals", "fills"])
    socket.say({"type": "unsubscribe", "channels": ["signals"]})
    await eventually(lambda: connection.channels == {"fills"})
    hub.publish_message(
        subjects.candidates("AAPL"), candidate("AAPL", 1).model_dump_json().encode()
    )
    socket.say({"type": "ping"})
    await eventually(lambda: len(socket.of("pong")) == 1)
    assert socket.of("candidate_signal") == []
    assert socket.of("hello")[-1]["data"]["channels"] == ["fills"]
    assert hub.subscribers("signals") == 0
    socket.leave()
    await task


async def test_invalid_nats_messages_are_not_forwarded() -> None:
    hub = Hub()
    socket = FakeSocket()
    _, task = await connect(hub, socket, ["bars:AAPL"])
    bad = bars("AAPL", 1)[0].model_dump(mode="json") | {"high": 1.0}  # high below low
    assert hub.publish_message(subjects.bars("AAPL"), json.dumps(bad).encode()) is False
    assert hub.publish_message(subjects.bars("AAPL"), b"{not json") is False
    good = bars("AAPL", 1)[0].model_dump_json().encode()
    assert hub.publish_message(subjects.candidates("AAPL"), good) is False  # wrong subject
    assert hub.publish_message(subjects.bars("AAPL"), good) is True
    await eventually(lambda: len(socket.of("bar")) == 1)
    socket.leave()
    await task


async def test_heartbeat_reaches_everyone_and_a_stuck_client_is_closed() -> None:
    hub = Hub(heartbeat_seconds=0.05, send_timeout=0.1)
    alive, stuck = FakeSocket(), FakeSocket(gated=True)
    _, alive_task = await connect(hub, alive, [])
    _, stuck_task = await connect(hub, stuck, [])
    hub.start()
    await eventually(lambda: len(alive.of("heartbeat")) >= 2)
    await eventually(stuck_task.done)  # its first send never completed: closed by the hub
    assert len(hub.connections) == 1
    await hub.stop()
    await asyncio.gather(alive_task)
