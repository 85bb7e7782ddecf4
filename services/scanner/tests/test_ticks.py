"""Daily bars from ticks: the New York session, out-of-order ticks, closing by a later
session or by the clock, late ticks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from swingflow_common.messages import Tick
from swingflow_scanner.ticks import TickAggregator, TickFit, session_end, session_of

NY = ZoneInfo("America/New_York")
GRACE = timedelta(minutes=15)


def ny(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=NY)


def tick(at: datetime, price: float, size: float = 100, symbol: str = "AAPL") -> Tick:
    return Tick(symbol=symbol, ts=at, price=price, size=size)


WINTER = date(2024, 3, 8)  # a Friday, EST (UTC-5)
SUMMER = date(2024, 3, 11)  # the Monday after the switch, EDT (UTC-4)


def test_the_session_is_09_30_to_16_00_new_york_time() -> None:
    assert session_of(ny(WINTER, 9, 29, 59)) is None
    assert session_of(ny(WINTER, 9, 30)) == WINTER
    assert session_of(ny(WINTER, 16, 0)) == WINTER
    assert session_of(ny(WINTER, 16, 0, 1)) is None
    late_evening_utc = datetime(2024, 3, 9, 0, 30, tzinfo=UTC)  # 19:30 New York on the 8th
    assert session_of(late_evening_utc) is None
    assert session_of(datetime(2024, 3, 8, 20, 59, tzinfo=UTC)) == WINTER  # 15:59 EST


def test_the_session_end_follows_daylight_saving() -> None:
    assert session_end(WINTER) == datetime(2024, 3, 8, 21, 0, tzinfo=UTC)
    assert session_end(SUMMER) == datetime(2024, 3, 11, 20, 0, tzinfo=UTC)


def test_a_bar_takes_open_and_close_by_time_even_when_ticks_come_out_of_order() -> None:
    agg = TickAggregator(GRACE)
    for at, price, size in [
        ((10, 0), 101.0, 100),
        ((9, 31), 100.0, 50),
        ((15, 59), 99.5, 10),
        ((12, 0), 104.0, 5),
        ((13, 0), 98.0, 1),
    ]:
        assert agg.add(tick(ny(WINTER, *at), price, size)).fit is TickFit.AGGREGATED
    (bar,) = agg.close_due(session_end(WINTER) + GRACE)
    assert bar.ts == datetime(2024, 3, 8, tzinfo=UTC)  # midnight UTC, like every daily bar
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (100.0, 104.0, 98.0, 99.5, 166)
    assert bar.interval == "1d"


def test_a_tick_of_a_later_session_closes_the_open_bar() -> None:
    agg = TickAggregator(GRACE)
    agg.add(tick(ny(WINTER, 10, 0), 100.0))
    result = agg.add(tick(ny(SUMMER, 9, 45), 103.0))
    assert [b.ts.date() for b in result.closed] == [WINTER]
    assert agg.open["AAPL"].session == SUMMER


def test_the_timer_closes_only_after_the_grace_period() -> None:
    agg = TickAggregator(GRACE)
    agg.add(tick(ny(WINTER, 15, 0), 100.0))
    agg.add(tick(ny(WINTER, 15, 0), 50.0, symbol="MSFT"))
    end = session_end(WINTER)
    assert agg.close_due(end + GRACE - timedelta(seconds=1)) == []
    assert [b.symbol for b in agg.close_due(end + GRACE)] == ["AAPL", "MSFT"]
    assert agg.close_due(end + GRACE * 10) == []


def test_ticks_outside_the_session_are_left_out() -> None:
    agg = TickAggregator(GRACE)
    assert agg.add(tick(ny(WINTER, 8, 0), 90.0)).fit is TickFit.OUTSIDE_SESSION
    agg.add(tick(ny(WINTER, 10, 0), 100.0))
    assert agg.add(tick(ny(WINTER, 17, 0), 200.0)).fit is TickFit.OUTSIDE_SESSION
    (bar,) = agg.close_due(session_end(WINTER) + GRACE)
    assert (bar.low, bar.high) == (100.0, 100.0)


@pytest.mark.parametrize("closed_by", ["timer", "later session"])
def test_a_tick_for_a_closed_session_is_late(closed_by: str) -> None:
    agg = TickAggregator(GRACE)
    agg.add(tick(ny(WINTER, 10, 0), 100.0))
    if closed_by == "timer":
        agg.close_due(session_end(WINTER) + GRACE)
    else:
        agg.add(tick(ny(SUMMER, 10, 0), 100.0))
    result = agg.add(tick(ny(WINTER, 15, 0), 100.0))
    assert result.fit is TickFit.LATE
    assert "2024-03-08" in result.reason
    assert not result.closed
