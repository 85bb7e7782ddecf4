"""`bus.pull.BatchConsumer` on a real nats-server: batches in stream order, a failing batch
nacked and redelivered, and a stop that lets the batch in hand finish."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from swingflow_common.bus import ensure_streams
from swingflow_common.bus.pull import BatchConsumer, PullSpec
from swingflow_common.testing import eventually

SPEC = PullSpec("md.bars.*", "MARKET", "test-pull", batch_size=8, fetch_timeout=0.1)


async def put(js: JetStreamContext, n: int) -> None:
    for i in range(n):
        await js.publish(f"md.bars.S{i % 3}", str(i).encode())


async def test_batches_arrive_in_stream_order_and_are_acked(js: JetStreamContext) -> None:
    await ensure_streams(js)
    seen: list[int] = []
    sizes: list[int] = []

    async def handle(messages: list[Msg]) -> None:
        sizes.append(len(messages))
        for msg in messages:
            seen.append(int(msg.data))
            await msg.ack()

    consumer = BatchConsumer(js, SPEC, handle, name="test")
    await put(js, 20)
    await consumer.start()
    await eventually(lambda: len(seen) == 20)
    await consumer.stop()

    assert seen == list(range(20))
    assert max(sizes) <= SPEC.batch_size
    info = await js.consumer_info("MARKET", SPEC.durable)
    assert info.num_ack_pending == 0


async def test_a_batch_whose_handler_raises_is_redelivered(js: JetStreamContext) -> None:
    await ensure_streams(js)
    deliveries: list[int] = []

    async def handle(messages: list[Msg]) -> None:
        deliveries.extend(int(m.data) for m in messages)
        if len(deliveries) <= 3:
            raise ConnectionError("database is locked")
        for msg in messages:
            await msg.ack()

    consumer = BatchConsumer(js, SPEC, handle, name="test", retry_delay=0.05)
    await put(js, 3)
    await consumer.start()
    await eventually(lambda: len(deliveries) >= 6)
    await consumer.stop()

    assert deliveries[:3] == [0, 1, 2]
    assert sorted(deliveries[3:6]) == [0, 1, 2]


async def test_stop_lets_the_batch_in_hand_finish(js: JetStreamContext) -> None:
    await ensure_streams(js)
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def handle(messages: list[Msg]) -> None:
        started.set()
        await release.wait()
        for msg in messages:
            await msg.ack()
        finished.extend(int(m.data) for m in messages)

    consumer = BatchConsumer(js, SPEC, handle, name="test")
    await put(js, 2)
    await consumer.start()
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(consumer.stop())
    release.set()
    await stopping

    assert finished == [0, 1]


async def test_a_partial_batch_lingers_once_for_what_comes_meanwhile(js: JetStreamContext) -> None:
    await ensure_streams(js)
    spec = replace(SPEC, durable="test-linger", linger=1.0)
    batches: list[list[int]] = []

    async def handle(messages: list[Msg]) -> None:
        batches.append([int(m.data) for m in messages])
        for msg in messages:
            await msg.ack()

    consumer = BatchConsumer(js, spec, handle, name="test")
    await consumer.start()
    await js.publish("md.bars.S0", b"0")  # fetched alone: the batch waits for more
    await asyncio.sleep(0.2)
    for i in range(1, 12):
        await js.publish(f"md.bars.S{i % 3}", str(i).encode())
    await eventually(lambda: sum(map(len, batches)) == 12)
    await consumer.stop()

    assert batches[0] == list(range(spec.batch_size))  # one full batch, not the first alone
    assert [i for batch in batches for i in batch] == list(range(12))  # in order, once each
