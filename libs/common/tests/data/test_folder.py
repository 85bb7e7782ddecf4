"""load_folder: a user's CSV / Parquet files, one per symbol."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swingflow_common.data import DataError, load, load_folder

DAYS = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]


def _table(**renames: str) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "Date": DAYS,
            "Open": [10.0, 10.5, 11.0, 10.8],
            "High": [10.8, 11.2, 11.4, 11.0],
            "Low": [9.9, 10.3, 10.7, 10.1],
            "Close": [10.5, 11.0, 10.8, 10.2],
            "Adj Close": [5.25, 5.5, 5.4, 5.1],
            "Volume": [1000, 1200, 900, 1500],
        }
    )
    return table.rename(columns=renames)


def test_folder_of_csv_and_parquet_files_loads_one_symbol_per_file(
    tmp_path: Path, contract: Callable[..., None]
) -> None:
    _table().to_csv(tmp_path / "aapl.csv", index=False)
    lower = _table(Date="timestamp", Open="open", High="h", Low="low", Close="close", Volume="vol")
    lower["timestamp"] = pd.to_datetime(lower["timestamp"])
    lower.to_parquet(tmp_path / "msft.parquet", index=False)
    indexed = _table().assign(Date=pd.to_datetime(DAYS)).set_index("Date")
    indexed.to_parquet(tmp_path / "brk.b.parquet")
    _table().to_csv(tmp_path / "nvda.csv.gz", index=False)
    (tmp_path / "README.txt").write_text("not data")

    ds = load_folder(tmp_path)

    assert ds.symbols == ("AAPL", "BRK.B", "MSFT", "NVDA")
    assert ds.name == tmp_path.name
    assert ds.adjustment == "raw"
    for frame in ds.bars.values():
        contract(frame)
        assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
        assert list(frame.index.strftime("%Y-%m-%d")) == DAYS
        assert frame["close"].tolist() == [10.5, 11.0, 10.8, 10.2]  # Adj Close ignored
    assert ds.issues == ()


def test_use_adj_close_back_adjusts_prices_and_flags_split_dividend(tmp_path: Path) -> None:
    _table().to_csv(tmp_path / "AAPL.csv", index=False)
    ds = load_folder(tmp_path, use_adj_close=True)
    frame = ds.bars["AAPL"]
    assert ds.adjustment == "split_dividend"
    np.testing.assert_allclose(frame["close"], [5.25, 5.5, 5.4, 5.1])
    np.testing.assert_allclose(frame["open"], [5.0, 5.25, 5.5, 5.4])
    np.testing.assert_allclose(frame["volume"], [2000, 2400, 1800, 3000])


def test_bad_rows_in_a_readable_file_are_repaired_and_reported(tmp_path: Path) -> None:
    table = _table().astype({"Close": object})
    table.loc[1, "High"] = 10.9  # below close 11.0, above low 10.3
    table.loc[2, "Close"] = "n/a"
    table.to_csv(tmp_path / "AAPL.csv", index=False)
    ds = load_folder(tmp_path)
    kinds = {(i.symbol, i.ts.strftime("%Y-%m-%d"), i.kind, i.action) for i in ds.issues}
    assert kinds == {
        ("AAPL", "2024-03-04", "high_below_open_close", "widened"),
        ("AAPL", "2024-03-05", "non_finite_price", "dropped"),
    }
    assert ds.bars["AAPL"].loc["2024-03-04", "high"] == 11.0


def test_tz_aware_dates_keep_the_date_they_show(tmp_path: Path) -> None:
    table = _table()
    table["Date"] = [f"{d}T00:00:00-05:00" for d in DAYS]
    table.to_csv(tmp_path / "AAPL.csv", index=False)
    frame = load_folder(tmp_path).bars["AAPL"]
    assert list(frame.index.strftime("%Y-%m-%d %H:%M")) == [f"{d} 00:00" for d in DAYS]


def test_offsets_that_change_with_daylight_saving_keep_each_wall_date(tmp_path: Path) -> None:
    table = _table().iloc[:2].copy()
    table["Date"] = ["2024-03-08T00:00:00-05:00", "2024-03-11T00:00:00-04:00"]
    table.to_csv(tmp_path / "AAPL.csv", index=False)
    tokyo = _table().iloc[:1].copy()
    tokyo["Date"] = ["2024-03-01 00:00:00+09:00"]
    tokyo.to_csv(tmp_path / "SONY.csv", index=False)
    ds = load_folder(tmp_path)
    assert list(ds.bars["AAPL"].index.strftime("%Y-%m-%d")) == ["2024-03-08", "2024-03-11"]
    assert list(ds.bars["SONY"].index.strftime("%Y-%m-%d %H:%M")) == ["2024-03-01 00:00"]


def test_us_style_text_dates_are_read(tmp_path: Path) -> None:
    _table().assign(Date=["03/01/2024", "03/04/2024", "03/05/2024", "03/06/2024"]).to_csv(
        tmp_path / "AAPL.csv", index=False
    )
    assert list(load_folder(tmp_path).bars["AAPL"].index.strftime("%Y-%m-%d")) == DAYS


def test_yyyymmdd_integer_dates_are_read_as_dates(tmp_path: Path) -> None:
    _table().assign(Date=[20240301, 20240304, 20240305, 20240306]).to_csv(
        tmp_path / "AAPL.csv", index=False
    )
    frame = load_folder(tmp_path).bars["AAPL"]
    assert list(frame.index.strftime("%Y-%m-%d")) == DAYS


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (
            lambda p: _table().drop(columns="Volume").to_csv(p, index=False),
            r"missing column\(s\) volume",
        ),
        (lambda p: _table().drop(columns="Date").to_csv(p, index=False), r"missing column\(s\) ts"),
        (lambda p: p.write_bytes(b"\x00\xff\x00garbage\xfe" * 50), "cannot read"),
        (lambda p: p.write_text(""), "cannot read"),
        (
            lambda p: _table().assign(Date=[f"{d} 14:30" for d in DAYS]).to_csv(p, index=False),
            "time of day",
        ),
        (lambda p: _table().assign(Date="soon").to_csv(p, index=False), "no readable date"),
        (
            lambda p: _table().assign(Close2=1.0, c=2.0).to_csv(p, index=False),
            "both look like close",
        ),
    ],
)
def test_an_unreadable_file_is_a_data_error_naming_the_file(
    tmp_path: Path, write: Callable[[Path], None], message: str
) -> None:
    _table().to_csv(tmp_path / "GOOD.csv", index=False)
    bad = tmp_path / "BAD.csv"
    write(bad)
    with pytest.raises(DataError, match=message) as error:
        load_folder(tmp_path)
    assert str(bad) in str(error.value)


def test_a_corrupt_parquet_file_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "BAD.parquet"
    bad.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match="cannot read") as error:
        load_folder(tmp_path)
    assert "BAD.parquet" in str(error.value)


def test_two_files_for_one_symbol_are_a_data_error(tmp_path: Path) -> None:
    _table().to_csv(tmp_path / "AAPL.csv", index=False)
    _table().to_parquet(tmp_path / "aapl.parquet", index=False)
    with pytest.raises(DataError, match="second file for symbol AAPL"):
        load_folder(tmp_path)


def test_file_name_that_is_not_a_symbol_is_a_data_error(tmp_path: Path) -> None:
    _table().to_csv(tmp_path / "my prices.csv", index=False)
    with pytest.raises(DataError, match="file name must be the symbol"):
        load_folder(tmp_path)


def test_missing_or_empty_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        load_folder(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no \.csv"):
        load_folder(tmp_path)


def test_load_dispatches_a_folder_path(tmp_path: Path) -> None:
    _table().to_csv(tmp_path / "AAPL.csv", index=False)
    assert load(str(tmp_path)).symbols == ("AAPL",)
