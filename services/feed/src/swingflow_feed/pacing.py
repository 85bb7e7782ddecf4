"""How fast the feed goes: a warm-up at the consumers' speed, then a fixed pace.

Two rules, both pure (a clock and a sleep are passed in, so tests use a fake clock):

- `Pacer`: the first `warmup_days` days wait for nothing; after them, days go out at most
  `days_per_second` (0 = no limit).
- `wait_for_room`: backpressure. Before a day is published, wait until the watched
  consumers have fewer than `limit` messages left, so a replay never floods the stream
  faster than the scanner digests it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[bool]]  # False when the service is stopping
Pending = Callable[[], Awaitable[int]]


@dataclass
class Pacer:
    """When the next day may be published."""

    warmup_days: int
    days_per_second: float
    _last: float | None = None

    def delay(self, index: int, now: float) -> float:
        """Seconds to wait before publishing day `index` (0 during the warm-up)."""
        if index < self.warmup_days or self.days_per_second <= 0 or self._last is None:
            return 0.0
        return max(0.0, self._last + 1.0 / self.days_per_second - now)

    def published(self, index: int, now: float) -> None:
        """Record that day `index` went out at `now` (warm-up days do not start the pace)."""
        if index >= self.warmup_days:
            self._last = now


def _ignore(waiting: bool) -> None:
    return None


async def wait_for_room(
    pending: Pending,
    limit: int,
    sleep: Sleep,
    poll: float,
    waiting: Callable[[bool], None] = _ignore,
) -> bool:
    """Wait until `pending()` is below `limit`; False if `sleep` says the service stops.

    `waiting(True)` is called when it starts to wait and `waiting(False)` when it is done.
    """
    if await pending() < limit:
        return True
    waiting(True)
    try:
        while await pending() >= limit:
            if not await sleep(poll):
                return False
        return True
    finally:
        waiting(False)
