"""The lease on a real nats-server: one holder at a time, an immediate handover after a
release, a takeover after the holder goes silent for `ttl`, and the silent one told so."""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from swingflow_common.testing import eventually
from swingflow_portfolio.lease import Lease


async def test_only_one_holder_at_a_time_and_a_release_hands_over_at_once(
    js: JetStreamContext,
) -> None:
    first, second = Lease(js, "book", ttl=30), Lease(js, "book", ttl=30)

    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.renew()
    assert not await second.try_acquire()

    await first.release()

    assert await second.try_acquire()
    assert not first.held
    assert second.held


async def test_a_silent_holder_loses_the_role_after_ttl(js: JetStreamContext) -> None:
    silent, standby = Lease(js, "book", ttl=0.6), Lease(js, "book", ttl=0.6)
    assert await silent.try_acquire()

    await asyncio.wait_for(standby.acquire(), timeout=5)  # takes over once the entry expires

    assert standby.held
    assert not await silent.renew()
    assert not silent.held


async def test_keep_renews_past_the_ttl(js: JetStreamContext) -> None:
    holder, other = Lease(js, "book", ttl=0.6), Lease(js, "book", ttl=0.6)
    assert await holder.try_acquire()
    first = holder.revision or 0
    keeper = asyncio.create_task(holder.keep(lambda: None))

    await eventually(lambda: (holder.revision or 0) >= first + 4, within=5)  # > ttl later
    taken = await other.try_acquire()
    keeper.cancel()

    assert not taken
    assert holder.held


async def test_keep_reports_a_lease_taken_over_while_its_holder_stalled(
    js: JetStreamContext,
) -> None:
    stalled, other = Lease(js, "book", ttl=0.6), Lease(js, "book", ttl=0.6)
    assert await stalled.try_acquire()
    await asyncio.wait_for(other.acquire(), timeout=5)  # the stalled one missed its renewals
    lost: list[bool] = []

    await asyncio.wait_for(stalled.keep(lambda: lost.append(True)), timeout=5)

    assert lost == [True]
    assert not stalled.held
    assert not await stalled.renew()
    assert other.held
