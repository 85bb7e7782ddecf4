"""Weekly trend: the weekly close against its 10-week average, with the week so far.

Weeks are calendar weeks starting Monday (UTC). At bar i the current week is not over,
so its "weekly close" is bar i's close; the nine weeks before it are complete and use
their last bar's close. The 10-week average is the mean of those ten closes, and
`weekly_trend` is +1 when bar i's close is above it, -1 below, 0 equal. Nothing reads the
rest of the current week: that is what a live service sees on a Wednesday.

NaN until nine complete weeks precede bar i's week. A week with no bar is no week.
"""

from __future__ import annotations

import numpy as np

from swingflow_common.analysis._arrays import nans
from swingflow_common.analysis.base import OHLCV, Features

NAME = "weekly_trend"
KEYS: tuple[str, ...] = ("weekly_trend",)
WEEKS = 10
_MONDAY_OFFSET = 3  # 1970-01-01 was a Thursday: day + 3 counts weeks from a Monday


def compute(bars: OHLCV) -> Features:
    """`weekly_trend` in {-1, 0, +1}."""
    n = len(bars)
    out = nans(n)
    if n < 2:
        return {"weekly_trend": out}
    days = bars.ts.astype("datetime64[D]").astype(np.int64)
    week = (days + _MONDAY_OFFSET) // 7
    week_ends = np.flatnonzero(week[1:] != week[:-1])  # last bar of each complete week
    csum = np.concatenate(([0.0], np.cumsum(bars.close[week_ends])))
    done = np.searchsorted(week_ends, np.arange(n), side="left")  # complete weeks before i
    ready = done >= WEEKS - 1
    k = done[ready]
    average = (csum[k] - csum[k - (WEEKS - 1)] + bars.close[ready]) / WEEKS
    out[ready] = np.sign(bars.close[ready] - average)
    return {"weekly_trend": out}
