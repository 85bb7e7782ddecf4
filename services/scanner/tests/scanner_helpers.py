"""Helpers for the scanner's tests: datasets as Bar streams, a scanner running in the
test's event loop, fast publishing, reading streams back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, PubAck
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import MSG_ID_HEADER, msg_id, stream_for
from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, load_builtin
from swingflow_common.messages import Bar, CandidateSignal, DeadLetter, Message, decode
from swingflow_scanner.service import Scanner
from swingflow_scanner.settings import Settings

CONFIG = StrategyConfig()


@cache
def sp500() -> Dataset:
    return load_builtin("sp500-2010")


def sp500_symbols(n: int, offset: int = 0) -> Dataset:
    """`n` real symbols of the S&P 500 year, evenly spread through the alphabet."""
    data = sp500()
    everything = sorted(data.bars)
    symbols = everything[offset :: max(1, len(everything) // n)][:n]
    return data.select(symbols)


def day_ordered_bars(dataset: Dataset) -> list[Bar]:
    """Every bar of `dataset`, day by day (all symbols of a day, then the next day)."""
    rows = []
    for symbol, frame in dataset.bars.items():
        values = frame[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
        for ts, row in zip(frame.index, values, strict=True):
            rows.append((ts, symbol, row))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        Bar(symbol=s, ts=ts.to_pydatetime(), open=o, high=h, low=low, close=c, volume=v)
        for ts, s, (o, h, low, c, v) in rows
    ]


def settings(nats_url: str, database_url: str, **overrides: Any) -> Settings:
    values = {
        "nats_url": nats_url,
        "database_url": database_url,
        "fetch_timeout_s": 0.2,
        "tick_timer_s": 0.05,
        **overrides,
    }
    return Settings.model_validate(values)


@asynccontextmanager
async def running(
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    conf: Settings,
    config: StrategyConfig = CONFIG,
    **kwargs: Any,
) -> AsyncIterator[Scanner]:
    """A started scanner consuming in this loop; stopped (as by SIGTERM) at the end."""
    scanner = Scanner(js, sessions, config, conf, **kwargs)
    await scanner.start()
    stop = asyncio.Event()
    task = asyncio.create_task(scanner.run(stop))
    try:
        yield scanner
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def publish_all(js: JetStreamContext, messages: Sequence[Message]) -> list[PubAck]:
    """Publish with async publishes (what the feed does), each with its Nats-Msg-Id."""
    futures = []
    for m in messages:
        subject = subjects.bars(m.symbol) if isinstance(m, Bar) else subjects.ticks(m.symbol)  # type: ignore[attr-defined]
        mid = msg_id(m)
        headers = {MSG_ID_HEADER: mid} if mid else None
        futures.append(
            await js.publish_async(
                subject, m.model_dump_json().encode(), stream=stream_for(subject), headers=headers
            )
        )
    return list(await asyncio.gather(*futures))


async def read_stream(js: JetStreamContext, stream: str, subject: str) -> list[Message]:
    """Every message stored on `subject` in `stream`, in order."""
    expected = await stream_count(js, stream, subject)
    if not expected:
        return []
    config = ConsumerConfig(inactive_threshold=5.0)
    sub = await js.pull_subscribe(subject, stream=stream, config=config)
    out: list[Message] = []
    try:
        while len(out) < expected:
            try:
                msgs = await sub.fetch(5_000, timeout=0.5)
            except TimeoutError:
                break
            for m in msgs:
                await m.ack()
                out.append(decode(m.data))
    finally:
        await sub.unsubscribe()
    return out


async def candidates(js: JetStreamContext) -> list[CandidateSignal]:
    found = await read_stream(js, "SIGNALS", subjects.CANDIDATES_ALL)
    return [c for c in found if isinstance(c, CandidateSignal)]


async def dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    found = await read_stream(js, "DLQ", subjects.dlq("scanner"))
    return [d for d in found if isinstance(d, DeadLetter)]


async def stream_count(js: JetStreamContext, stream: str, subject: str) -> int:
    try:
        info = await js.stream_info(stream, subjects_filter=subject)
    except Exception:
        return 0
    return sum((info.state.subjects or {}).values())


def by_id(items: Sequence[CandidateSignal]) -> dict[str, CandidateSignal]:
    return {c.id: c for c in items}
