"""The feed's NATS side: publish a day with bounded async publishes, read the backlog.

A replay publishes ~100k bars, so each goes out with nats-py's `publish_async` (at most
`max_in_flight` awaiting their PubAck, set on the JetStreamContext) rather than one
request-reply at a time or through FastStream, whose per-message cost is far higher
(docs/services.md). Each bar carries its `Nats-Msg-Id`, so the server drops a republished
one within the duplicate window.
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo, PubAck
from nats.js.errors import NotFoundError

from swingflow_common import subjects
from swingflow_common.bus import MSG_ID_HEADER, msg_id, stream_for
from swingflow_common.observability import PUBLISHED
from swingflow_feed.days import Day

MARKET = stream_for(subjects.bars("X"))
ACK_TIMEOUT_S = 30.0  # for a whole day's acks


async def publish_day(js: JetStreamContext, day: Day) -> int:
    """Publish the day's bars; returns how many the server dropped as duplicates.

    Raises when a bar is not acknowledged (the whole day is then retried by the caller).
    """
    futures: list[asyncio.Future[PubAck]] = []
    for bar in day.bars:
        headers = {MSG_ID_HEADER: msg_id(bar)}
        payload = bar.model_dump_json().encode()
        futures.append(
            await js.publish_async(
                subjects.bars(bar.symbol), payload, stream=MARKET, headers=headers
            )
        )
    acks = await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT_S)
    duplicates = sum(1 for ack in acks if ack.duplicate)
    PUBLISHED.labels(MARKET, "false").inc(len(acks) - duplicates)
    PUBLISHED.labels(MARKET, "true").inc(duplicates)
    return duplicates


def watched(info: ConsumerInfo, prefix: str) -> bool:
    """A durable consumer of bars whose name starts with `prefix` (the scanner replicas)."""
    config = info.config
    filters = {config.filter_subject, *(config.filter_subjects or ())} - {None, ""}
    reads_bars = not filters or bool(filters & {subjects.BARS_ALL, subjects.MARKET_ALL})
    return info.name.startswith(prefix) and reads_bars


async def watched_consumers(js: JetStreamContext, prefix: str) -> list[ConsumerInfo]:
    try:
        infos = await js.consumers_info(MARKET)
    except NotFoundError:
        return []
    return [info for info in infos if watched(info, prefix)]


async def backlog(js: JetStreamContext, prefix: str) -> int:
    """The largest number of bars a watched consumer still has to process (0 with none)."""
    return max(
        (
            (i.num_pending or 0) + (i.num_ack_pending or 0)
            for i in await watched_consumers(js, prefix)
        ),
        default=0,
    )
