"""Weekly trend: the weekly close against its 10-week average, with the week so far.

Weeks are calendar weeks starting Monday (UTC). At bar i the current week is not over,
so its "weekly close" is bar i's close; the nine weeks before it are complete and use
their last bar's close. The 10-week average is the mean of those ten closes, and
`weekly_trend` is +1 when bar i's close is above it, -1 below, 0 equal. Nothing reads the
rest of the current week: that is what a live service sees on a Wednesday.

NaN until nine complete weeks precede bar i's week. A week with no bar is no week.
One numba pass keeps the last nine weekly closes in a ring.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "weekly_trend"
KEYS: tuple[str, ...] = ("weekly_trend",)
WEEKS = 10
_NS_PER_DAY = 86_400_000_000_000
_MONDAY_OFFSET = 3  # 1970-01-01 was a Thursday: (day + 3) // 7 numbers Monday-based weeks


@njit(cache=True)
def trend(days: npt.NDArray[np.int64], close: FloatArray, weeks: int) -> FloatArray:
    """sign(close - mean(last weeks - 1 complete weekly closes and this close)) per bar."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    ring = np.zeros(weeks - 1)  # the last complete weeks' closes
    done = 0
    total = 0.0
    for i in range(1, n):
        if (days[i] + _MONDAY_OFFSET) // 7 != (days[i - 1] + _MONDAY_OFFSET) // 7:
            ring[done % (weeks - 1)] = close[i - 1]  # bar i - 1 closed its week
            done += 1
            total = ring.sum()
        if done >= weeks - 1:
            out[i] = np.sign(close[i] - (total + close[i]) / weeks)
    return out


def compute(bars: OHLCV) -> Features:
    """`weekly_trend` in {-1, 0, +1}."""
    days = np.asarray(bars.ts, dtype="datetime64[ns]").view(np.int64) // _NS_PER_DAY
    return {"weekly_trend": trend(days, bars.close, WEEKS)}
