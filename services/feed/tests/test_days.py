"""A dataset as days of Bars: time order, every symbol of a day together, bad data refused."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from swingflow_common.data import Dataset, load, synthetic_universe
from swingflow_feed.days import DaySource, FeedError


def ragged() -> Dataset:
    """Three symbols; the second starts later, the third misses a day in the middle."""
    data = synthetic_universe(3, 12, seed=3)
    a, b, c = sorted(data.bars)
    bars = {a: data.bars[a], b: data.bars[b].iloc[4:], c: data.bars[c].drop(data.bars[c].index[6])}
    return Dataset("ragged", bars, data.adjustment)


def test_days_come_in_time_order_with_each_symbol_that_traded() -> None:
    data = ragged()
    source = DaySource(data)
    days = list(source.days())
    assert [d.ts for d in days] == [t.to_pydatetime() for t in data.dates]
    assert [d.index for d in days] == list(range(12))
    for day in days:
        expected = sorted(s for s, f in data.bars.items() if pd.Timestamp(day.ts) in f.index)
        assert [b.symbol for b in day.bars] == expected
        for bar in day.bars:
            row = data.bars[bar.symbol].loc[pd.Timestamp(day.ts)]
            assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == tuple(
                row[["open", "high", "low", "close", "volume"]]
            )
    assert len(days[0].bars) == 2
    assert len(days[6].bars) == 2
    assert len(days[7].bars) == 3


def test_first_after_the_cursor_resumes_on_the_next_day() -> None:
    source = DaySource(ragged())
    assert source.first_after(None) == 0
    assert source.first_after(source.dates[4].to_pydatetime()) == 5
    assert source.first_after(source.dates[-1].to_pydatetime()) == len(source)
    between = source.dates[4].to_pydatetime() + timedelta(hours=1)
    assert source.first_after(between) == 5


def test_a_row_that_is_not_a_valid_bar_is_skipped_and_counted() -> None:
    data = synthetic_universe(2, 5, seed=1)
    symbol = sorted(data.bars)[0]
    frame = data.bars[symbol].copy()
    frame.loc[frame.index[2], "high"] = frame["low"].iloc[2] / 2  # high below low
    source = DaySource(Dataset("bad", {**data.bars, symbol: frame}, data.adjustment))
    day = source.day(2)
    assert day.skipped == 1
    assert [b.symbol for b in day.bars] == sorted(data.bars)[1:]


def test_the_close_only_dataset_is_refused_with_the_reason() -> None:
    with pytest.raises(FeedError, match=r"no volume.*sp500-2010"):
        DaySource(load("sp20-1990-2022"))


def test_a_dataset_with_nan_volume_is_refused() -> None:
    data = synthetic_universe(2, 5, seed=1)
    symbol = sorted(data.bars)[0]
    frame = data.bars[symbol].copy()
    frame["volume"] = np.nan
    with pytest.raises(FeedError, match="1 of 2 symbols have NaN volume"):
        DaySource(Dataset("novol", {**data.bars, symbol: frame}, data.adjustment))
