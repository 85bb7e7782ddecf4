"""Daily bars from ticks: the US equities session, 09:30-16:00 America/New_York.

A tick belongs to the session of its New York date when its New York time is within the
regular session (the open print to the 16:00:00 close); extended-hours trades are left out
of the daily bar, as the exchanges' official daily bars leave them out. A symbol's bar for
a session is closed, and becomes a `Bar` (ts = midnight UTC of the session date, like every
daily bar in swingflow), when a tick of a later session arrives or when the session's end
plus a grace period has passed (`close_due`, called by a timer). A tick for a session
already closed is late and refused. Open and close are the first and last trades by time,
so ticks that arrive out of order within a session still give the right bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from swingflow_common.messages import Bar, Tick

NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(16, 0)


class TickFit(Enum):
    AGGREGATED = "aggregated"
    OUTSIDE_SESSION = "outside_session"
    LATE = "late"


def session_of(ts: datetime) -> date | None:
    """The New York session date of a trade at `ts`, or None outside regular hours."""
    local = ts.astimezone(NEW_YORK)
    return local.date() if SESSION_OPEN <= local.time() <= SESSION_CLOSE else None


def session_end(day: date) -> datetime:
    """The session's close (16:00 New York) in UTC: DST is the time zone's business."""
    return datetime.combine(day, SESSION_CLOSE, tzinfo=NEW_YORK).astimezone(UTC)


@dataclass
class OpenBar:
    """A session's bar while its ticks come in."""

    symbol: str
    session: date
    first: datetime
    last: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def start(cls, tick: Tick, session: date) -> OpenBar:
        p = tick.price
        return cls(tick.symbol, session, tick.ts, tick.ts, p, p, p, p, tick.size)

    def add(self, tick: Tick) -> None:
        self.high = max(self.high, tick.price)
        self.low = min(self.low, tick.price)
        self.volume += tick.size
        if tick.ts < self.first:
            self.first, self.open = tick.ts, tick.price
        if tick.ts >= self.last:
            self.last, self.close = tick.ts, tick.price

    def to_bar(self) -> Bar:
        day = datetime(self.session.year, self.session.month, self.session.day, tzinfo=UTC)
        return Bar(
            symbol=self.symbol,
            interval="1d",
            ts=day,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )


@dataclass
class TickResult:
    fit: TickFit
    closed: list[Bar] = field(default_factory=list)  # bars this tick closed
    reason: str = ""


class TickAggregator:
    """Per symbol, the open bar of its latest session and the last session closed."""

    def __init__(self, grace: timedelta) -> None:
        self.grace = grace
        self.open: dict[str, OpenBar] = {}
        self.closed_through: dict[str, date] = {}

    def add(self, tick: Tick) -> TickResult:
        session = session_of(tick.ts)
        if session is None:
            return TickResult(TickFit.OUTSIDE_SESSION)
        done = self.closed_through.get(tick.symbol)
        current = self.open.get(tick.symbol)
        if (done is not None and session <= done) or (current and session < current.session):
            return TickResult(TickFit.LATE, reason=f"late tick: session {session} is closed")
        closed = []
        if current is not None and session > current.session:
            closed.append(self._close(tick.symbol))
            current = None
        if current is None:
            self.open[tick.symbol] = OpenBar.start(tick, session)
        else:
            current.add(tick)
        return TickResult(TickFit.AGGREGATED, closed)

    def close_due(self, now: datetime) -> list[Bar]:
        """Close every bar whose session ended more than `grace` before `now`."""
        due = [s for s, b in self.open.items() if now >= session_end(b.session) + self.grace]
        return [self._close(symbol) for symbol in sorted(due)]

    def _close(self, symbol: str) -> Bar:
        bar = self.open.pop(symbol)
        self.closed_through[symbol] = bar.session
        return bar.to_bar()
