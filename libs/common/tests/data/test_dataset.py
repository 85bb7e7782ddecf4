"""Dataset helpers: symbols, dates, slice, asof, select, panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swingflow_common.data import DataIssue, Dataset
from swingflow_common.data.assemble import assemble


def _frame(days: list[str], first_close: float) -> pd.DataFrame:
    close = first_close + np.arange(len(days), dtype=np.float64)
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 100.0},
        index=pd.DatetimeIndex(days, name="ts").tz_localize("UTC"),
    )


@pytest.fixture
def dataset() -> Dataset:
    bars = {
        "BBB": _frame(["2010-01-05", "2010-01-06", "2010-01-07"], 20.0),
        "AAA": _frame(["2010-01-04", "2010-01-05"], 10.0),
    }
    issues = (
        DataIssue("AAA", pd.Timestamp("2010-01-04", tz="UTC"), "high_below_low", "x"),
        DataIssue("BBB", pd.Timestamp("2010-01-07", tz="UTC"), "high_below_low", "y"),
        DataIssue("*", None, "missing_sessions", "z"),
    )
    return Dataset("toy", bars, "raw", issues, "two symbols")


def _days(index: pd.Index) -> list[str]:
    return list(pd.DatetimeIndex(index).strftime("%Y-%m-%d"))


def test_symbols_are_sorted_and_dates_are_the_union(dataset: Dataset) -> None:
    assert dataset.symbols == ("AAA", "BBB")
    assert _days(dataset.dates) == ["2010-01-04", "2010-01-05", "2010-01-06", "2010-01-07"]
    assert str(dataset.dates.tz) == "UTC"
    assert dataset.dates.name == "ts"


def test_slice_keeps_both_bounds_and_drops_symbols_left_empty(dataset: Dataset) -> None:
    part = dataset.slice("2010-01-06", "2010-01-07")
    assert part.symbols == ("BBB",)
    assert _days(part.bars["BBB"].index) == ["2010-01-06", "2010-01-07"]
    assert [i.symbol for i in part.issues] == ["BBB", "*"]
    assert dataset.slice(None, None).bars["AAA"] is dataset.bars["AAA"]


def test_asof_holds_no_bar_after_the_given_date(dataset: Dataset) -> None:
    known = dataset.asof(pd.Timestamp("2010-01-05"))
    assert _days(known.dates) == ["2010-01-04", "2010-01-05"]
    assert all(f.index.max() <= pd.Timestamp("2010-01-05", tz="UTC") for f in known.bars.values())
    assert known.bars["BBB"]["close"].tolist() == [20.0]


def test_asof_reads_an_aware_timestamp_in_its_own_zone(dataset: Dataset) -> None:
    # 2010-01-04 20:00 in New York is 2010-01-05 01:00 UTC: the 01-05 bar has opened.
    known = dataset.asof(pd.Timestamp("2010-01-04 20:00", tz="America/New_York"))
    assert _days(known.dates) == ["2010-01-04", "2010-01-05"]


def test_select_keeps_the_order_given_and_refuses_unknown_symbols(dataset: Dataset) -> None:
    picked = dataset.select(["bbb"])
    assert list(picked.bars) == ["BBB"]
    assert {i.symbol for i in picked.issues} == {"BBB", "*"}
    with pytest.raises(KeyError, match="ZZZ"):
        dataset.select(["AAA", "ZZZ"])


def test_panel_is_date_by_symbol_with_nan_where_a_symbol_has_no_bar(dataset: Dataset) -> None:
    closes = dataset.panel("close")
    assert list(closes.columns) == ["AAA", "BBB"]
    assert _days(closes.index) == _days(dataset.dates)
    assert closes.loc["2010-01-05", "AAA"] == 11.0
    assert np.isnan(closes.loc["2010-01-07", "AAA"])
    assert np.isnan(closes.loc["2010-01-04", "BBB"])
    with pytest.raises(KeyError, match="adj_close"):
        dataset.panel("adj_close")


def test_assemble_reports_a_session_missing_for_every_symbol_once() -> None:
    days = ["2010-01-04", "2010-01-05", "2010-01-07", "2010-01-08"]  # 01-06 missing
    frames = {s: _frame(days, 10.0) for s in ("AAA", "BBB", "CCC")}
    ds = assemble(
        "toy",
        frames,
        "raw",
        "",
    )
    missing = [i for i in ds.issues if i.kind == "missing_sessions"]
    assert [(i.symbol, i.ts) for i in missing] == [("*", pd.Timestamp("2010-01-06", tz="UTC"))]


def test_assemble_drops_a_symbol_with_no_valid_bar_and_says_so() -> None:
    broken = _frame(["2010-01-04"], 10.0).assign(close=np.nan)
    ds = assemble("toy", {"AAA": _frame(["2010-01-04"], 10.0), "BAD": broken}, "raw", "")
    assert ds.symbols == ("AAA",)
    assert ("BAD", "no_valid_bars", "dropped") in {(i.symbol, i.kind, i.action) for i in ds.issues}
