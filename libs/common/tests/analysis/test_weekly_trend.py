"""Weekly trend against a pandas reference built from calendar weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import weekly_trend
from swingflow_common.analysis.base import OHLCV


def _reference(bars: OHLCV) -> np.ndarray:
    """Per bar: sign(close - mean(last 9 complete weeks' closes and this close))."""
    index = pd.DatetimeIndex(bars.ts)
    frame = pd.DataFrame({"close": bars.close}, index=index)
    week = index.to_period("W-SUN")  # Monday .. Sunday weeks
    weekly_close = frame["close"].groupby(week).last()
    out = np.full(len(bars), np.nan)
    for i, (this_week, close) in enumerate(zip(week, frame["close"], strict=True)):
        before = weekly_close[weekly_close.index < this_week].tail(9)
        if len(before) == 9:
            out[i] = np.sign(close - (before.sum() + close) / 10)
    return out


def test_weekly_trend_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    # The bytetheory file misses whole sessions (a week of 2009-10-29 .. 11-04 included),
    # so this also covers short and absent weeks.
    for symbol, bars in sp500.items():
        out = weekly_trend.compute(bars)["weekly_trend"]
        expected = _reference(bars)
        np.testing.assert_array_equal(out, expected, err_msg=symbol)
        assert {-1.0, 1.0} <= set(out[~np.isnan(out)])


def test_weekly_trend_reads_only_the_week_so_far() -> None:
    bars = random_walk_bars(120, seed=9)  # business days from Thursday 2020-01-02
    wednesday = next(
        i for i in range(60, 120) if pd.Timestamp(bars.ts[i]).day_name() == "Wednesday"
    )
    full = weekly_trend.compute(bars)["weekly_trend"]
    known = weekly_trend.compute(bars.head(wednesday + 1))["weekly_trend"]
    assert full[wednesday] == known[-1]


def test_weekly_trend_is_up_in_a_rising_series_and_down_in_a_falling_one() -> None:
    rising = weekly_trend.compute(bars_from_closes(np.linspace(10.0, 30.0, 80)))["weekly_trend"]
    falling = weekly_trend.compute(bars_from_closes(np.linspace(30.0, 10.0, 80)))["weekly_trend"]
    defined = ~np.isnan(rising)
    assert defined.sum() > 20
    assert (rising[defined] == 1.0).all()
    assert (falling[defined] == -1.0).all()


@pytest.mark.parametrize("n", [0, 1, 42])
def test_weekly_trend_is_nan_until_nine_complete_weeks(n: int) -> None:
    # factories' bars start on Thursday 2020-01-02: that Thursday and Friday are week 1,
    # weeks 2-9 hold 5 bars each, so bar 42 is the first bar with nine weeks behind it.
    out = weekly_trend.compute(random_walk_bars(n))["weekly_trend"]
    assert out.shape == (n,)
    assert np.isnan(out).all()
    assert not np.isnan(weekly_trend.compute(random_walk_bars(43))["weekly_trend"][42])
