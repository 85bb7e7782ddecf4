"""The NYSE trading-session calendar, used to tell a missing bar from a market holiday.

A gap check needs to know which weekdays the exchange was open. A plain business-day
calendar would flag every Good Friday and Thanksgiving as missing data, so this module
encodes the NYSE's full-day holidays (with the years they apply) and its unscheduled
full-day closures since 1985. Half days count as sessions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

# Full-day closures that no recurring rule produces (weather, national mourning, 9/11).
SPECIAL_CLOSURES: tuple[str, ...] = (
    "1985-09-27",  # Hurricane Gloria
    "1994-04-27",  # President Nixon's funeral
    "2001-09-11",  # September 11 attacks, market closed four sessions
    "2001-09-12",
    "2001-09-13",
    "2001-09-14",
    "2004-06-11",  # President Reagan's funeral
    "2007-01-02",  # President Ford's funeral
    "2012-10-29",  # Hurricane Sandy, two sessions
    "2012-10-30",
    "2018-12-05",  # President G. H. W. Bush's funeral
    "2025-01-09",  # President Carter's funeral
)


class NYSEHolidayCalendar(AbstractHolidayCalendar):
    """Recurring NYSE full-day holidays.

    New Year's Day moves from Sunday to Monday but is not observed on the Friday before
    when it falls on a Saturday (NYSE rule 7.2). Martin Luther King Jr. Day is a holiday
    from 1998 and Juneteenth from 2022.
    """

    rules = [  # noqa: RUF012 (pandas reads this class attribute)
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        Holiday(
            "Martin Luther King Jr. Day",
            month=1,
            day=1,
            offset=USMartinLutherKingJr.offset,
            start_date=pd.Timestamp("1998-01-01"),
        ),
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday(
            "Juneteenth",
            month=6,
            day=19,
            start_date=pd.Timestamp("2022-01-01"),
            observance=nearest_workday,
        ),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


DAY_NS = 86_400_000_000_000


@lru_cache(maxsize=64)
def _sessions_for_years(first_year: int, last_year: int) -> npt.NDArray[np.int64]:
    start = pd.Timestamp(year=first_year, month=1, day=1)
    end = pd.Timestamp(year=last_year, month=12, day=31)
    holidays = NYSEHolidayCalendar().holidays(start=start, end=end)
    closed = holidays.union(pd.DatetimeIndex(pd.to_datetime(list(SPECIAL_CLOSURES))))
    days = pd.bdate_range(start, end).difference(closed).as_unit("ns")
    out = days.asi8.copy()
    out.flags.writeable = False  # shared by every caller through the cache
    return out


def session_days(first_ns: int, last_ns: int) -> npt.NDArray[np.int64]:
    """NYSE sessions as int64 nanoseconds of midnight UTC, from `first_ns` to `last_ns`.

    Both bounds are midnight-UTC nanoseconds and both are included. The fast path for
    gap checks over hundreds of symbols; `nyse_sessions` is the friendly one.
    """
    if last_ns < first_ns:
        return np.empty(0, np.int64)
    first_year = pd.Timestamp(first_ns).year
    last_year = pd.Timestamp(last_ns).year
    sessions = _sessions_for_years(first_year, last_year)
    lo = int(np.searchsorted(sessions, first_ns, side="left"))
    hi = int(np.searchsorted(sessions, last_ns, side="right"))
    return sessions[lo:hi]


def nyse_sessions(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions from `start` to `end` (both included) as midnight-UTC timestamps.

    `start` and `end` may be naive or tz-aware; only the dates they show matter.
    """
    days = session_days(_calendar_day(start), _calendar_day(end))
    return pd.DatetimeIndex(days.astype("datetime64[ns]"), name="ts").tz_localize("UTC")


def _calendar_day(ts: pd.Timestamp) -> int:
    """Midnight of the date `ts` shows on its own clock, as UTC nanoseconds."""
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int(stamp.normalize().as_unit("ns").value)
