"""Pacing and backpressure of the replay loop, on a fake clock (no NATS, no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from swingflow_feed.days import Day
from swingflow_feed.pacing import Pacer, wait_for_room
from swingflow_feed.replay import Ports, ReplayOptions, replay

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class FakeWorld:
    """A clock that only moves when the loop sleeps, and a consumer that drains at a rate.

    `backlog` grows by each published day's size and falls by `drain_per_s` per second of
    fake time; `fail_next` makes the next publishes raise (a lost PubAck).
    """

    drain_per_s: float = 1e9
    stop_at: float | None = None
    now: float = 0.0
    backlog: float = 0.0
    fail_next: int = 0
    published: list[tuple[float, int, float]] = field(default_factory=list)  # time, day, backlog
    cursor: list[datetime] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> bool:
        assert seconds >= 0
        self.now += seconds
        self.backlog = max(0.0, self.backlog - self.drain_per_s * seconds)
        return self.stop_at is None or self.now < self.stop_at

    async def pending(self) -> int:
        return int(self.backlog)

    async def publish_day(self, day: Day) -> int:
        if self.fail_next:
            self.fail_next -= 1
            raise TimeoutError("no PubAck")
        self.published.append((self.now, day.index, self.backlog))
        self.backlog += 100
        return 0

    async def save_cursor(self, ts: datetime) -> None:
        self.cursor.append(ts)

    def ports(self) -> Ports:
        return Ports(self.publish_day, self.save_cursor, self.pending, self.clock, self.sleep)


def days(n: int, start: int = 0) -> list[Day]:
    return [Day(i, T0 + timedelta(days=i), ()) for i in range(start, start + n)]


def test_pacer_waits_nothing_during_the_warm_up() -> None:
    pacer = Pacer(warmup_days=3, days_per_second=0.5)
    for i in range(3):
        assert pacer.delay(i, now=10.0) == 0.0
        pacer.published(i, now=10.0)
    assert pacer.delay(3, now=10.0) == 0.0  # the warm-up does not start the pace
    pacer.published(3, now=10.0)
    assert pacer.delay(4, now=10.5) == pytest.approx(1.5)
    assert pacer.delay(4, now=13.0) == 0.0


def test_pacer_without_a_pace_never_waits() -> None:
    pacer = Pacer(warmup_days=0, days_per_second=0.0)
    pacer.published(0, now=1.0)
    assert pacer.delay(1, now=1.0) == 0.0


async def test_wait_for_room_polls_until_the_backlog_falls_below_the_limit() -> None:
    world = FakeWorld(drain_per_s=100.0, backlog=450.0)
    assert await wait_for_room(world.pending, limit=200, sleep=world.sleep, poll=0.5)
    assert world.backlog < 200
    assert world.now == pytest.approx(3.0)  # 450 -> 400 ... -> 200 (not below) -> 150: six polls


async def test_wait_for_room_gives_up_when_the_service_stops() -> None:
    world = FakeWorld(drain_per_s=0.0, backlog=500.0, stop_at=3.0)
    assert not await wait_for_room(world.pending, limit=200, sleep=world.sleep, poll=1.0)


async def test_replay_warms_up_at_consumer_speed_then_keeps_the_pace() -> None:
    world = FakeWorld(drain_per_s=1e9)  # the consumer keeps up at once
    outcome = await replay(days(6), Pacer(3, 0.5), world.ports(), ReplayOptions(max_pending=1000))
    times = [t for t, _, _ in world.published]
    assert outcome.finished
    assert outcome.days == 6
    assert times == pytest.approx([0, 0, 0, 0, 2, 4])
    assert world.cursor == [d.ts for d in days(6)]


async def test_replay_never_publishes_a_day_while_the_backlog_is_at_the_limit() -> None:
    world = FakeWorld(drain_per_s=50.0)  # each day is 100 bars: two seconds to digest
    await replay(days(8), Pacer(8, 0.0), world.ports(), ReplayOptions(200, poll_interval_s=0.1))
    backlogs = [b for _, _, b in world.published]
    assert len(backlogs) == 8
    assert max(backlogs) < 200
    assert world.now > 5  # it did have to wait for the consumer


async def test_replay_retries_a_day_whose_publishing_failed() -> None:
    world = FakeWorld(fail_next=2)
    outcome = await replay(days(3), Pacer(0, 0.0), world.ports(), ReplayOptions(1000))
    assert outcome.finished
    assert [d for _, d, _ in world.published] == [0, 1, 2]
    assert world.now == pytest.approx(0.5 + 1.0)  # the first two retry delays


async def test_replay_stops_between_days_and_keeps_the_cursor_at_the_last_full_day() -> None:
    world = FakeWorld(stop_at=5.0)
    outcome = await replay(days(10), Pacer(0, 1.0), world.ports(), ReplayOptions(1000))
    assert not outcome.finished
    assert outcome.days == 5  # published at t = 0, 1, 2, 3, 4
    assert world.cursor == [d.ts for d in days(5)]
