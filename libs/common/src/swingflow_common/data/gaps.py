"""Missing sessions: dates the exchange was open but the data has no bar.

Two views, so that one hole in a source is reported once, not once per symbol:
`missing_sessions` finds the sessions that *no* symbol has (a hole in the whole file),
and `gap_issues` finds runs of sessions one symbol lacks, leaving those out.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.data.calendar import DAY_NS, session_days
from swingflow_common.data.dataset import DataIssue

UNIVERSE = "*"
MIN_GAP_SESSIONS = 3

Days = npt.NDArray[np.int64]


def _day(ns: int) -> str:
    return pd.Timestamp(ns).strftime("%Y-%m-%d")


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, tz="UTC")


def day_numbers(index: pd.DatetimeIndex) -> Days:
    """Midnight UTC of each timestamp's UTC date, as int64 nanoseconds."""
    if str(index.dtype) != "datetime64[ns, UTC]":  # the usual case needs no conversion
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        index = index.as_unit("ns")
    ns: Days = np.asarray(index.asi8, dtype=np.int64)
    out: Days = ns - ns % DAY_NS
    return out


def missing_sessions(indexes: Iterable[pd.DatetimeIndex]) -> pd.DatetimeIndex:
    """NYSE sessions between the first and last date of all `indexes` that none of them has."""
    parts = [day_numbers(ix) for ix in indexes if len(ix)]
    present = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
    missing = np.empty(0, np.int64)
    if len(present):
        sessions = session_days(int(present[0]), int(present[-1]))
        missing = sessions[~np.isin(sessions, present)]
    return pd.DatetimeIndex(missing.astype("datetime64[ns]"), name="ts").tz_localize("UTC")


def universe_issues(missing: pd.DatetimeIndex) -> list[DataIssue]:
    """One issue per run of consecutive missing sessions, for the symbol `*`."""
    days = day_numbers(missing)
    if len(days) == 0:
        return []
    position = np.searchsorted(session_days(int(days[0]), int(days[-1])), days)
    breaks = np.flatnonzero(np.diff(position) > 1) + 1
    issues = []
    for run in np.split(days, breaks):
        first, last = int(run[0]), int(run[-1])
        span = _day(first) if len(run) == 1 else f"{_day(first)}..{_day(last)}"
        issues.append(
            DataIssue(
                UNIVERSE,
                _stamp(first),
                "missing_sessions",
                f"no symbol has a bar for {len(run)} NYSE session(s) {span}",
            )
        )
    return issues


def _between(sorted_days: Days, days: Days) -> npt.NDArray[np.intp]:
    """How many of `sorted_days` lie strictly between each pair of consecutive `days`."""
    after = np.searchsorted(sorted_days, days[:-1], side="right")
    before = np.searchsorted(sorted_days, days[1:], side="left")
    return before - after


def gap_issues(
    index: pd.DatetimeIndex,
    symbol: str,
    *,
    min_gap: int = MIN_GAP_SESSIONS,
    known_missing: pd.DatetimeIndex | None = None,
) -> list[DataIssue]:
    """Runs of at least `min_gap` NYSE sessions with no bar between two bars of `symbol`.

    Sessions in `known_missing` (already reported for the whole universe) are not
    counted. Sessions before the first bar or after the last are not gaps: a symbol may
    list late or leave the index.
    """
    days = np.unique(day_numbers(index))
    if len(days) < 2:
        return []
    sessions = session_days(int(days[0]), int(days[-1]))
    known = np.empty(0, np.int64) if known_missing is None else np.sort(day_numbers(known_missing))
    count = _between(sessions, days) - _between(known, days)
    issues = []
    for k in np.flatnonzero(count >= min_gap).tolist():
        inside = sessions[(sessions > days[k]) & (sessions < days[k + 1])]
        inside = inside[~np.isin(inside, known)]
        first, last = int(inside[0]), int(inside[-1])
        issues.append(
            DataIssue(
                symbol,
                _stamp(first),
                "missing_sessions",
                f"no bar for {count[k]} NYSE sessions {_day(first)}..{_day(last)} "
                f"(between bars of {_day(int(days[k]))} and {_day(int(days[k + 1]))})",
            )
        )
    return issues
