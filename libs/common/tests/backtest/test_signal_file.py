"""Reading a `symbol,date,action` signal file, and what a malformed one says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swingflow_common.backtest.signal_file import SignalTable, read_signal_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "signals.csv"
    path.write_text(text, encoding="utf-8")
    return path


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_reads_entries_and_exits_as_aligned_boolean_frames(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffDate, Symbol ,Action,note\n"
        "2023-03-01,aapl,ENTRY,first\n"
        "\n"
        "2023-03-20,AAPL,exit,\n"
        "2023-03-01T00:00:00Z,MSFT,entry,same day\n",
    )
    table = read_signal_file(path)
    assert table.symbols == ("AAPL", "MSFT")
    assert list(table.entries.index) == [day("2023-03-01"), day("2023-03-20")]
    assert table.entries.index.equals(table.exits.index)
    assert list(table.entries.loc[day("2023-03-01")]) == [True, True]
    assert list(table.exits.loc[day("2023-03-20")]) == [True, False]
    assert (table.n_entries, table.n_exits) == (2, 1)
    assert all(dtype == np.bool_ for dtype in table.entries.dtypes)


def test_a_file_of_entries_only_has_an_all_false_exit_frame(tmp_path: Path) -> None:
    table = read_signal_file(write(tmp_path, "symbol,date,action\nAAPL,2023-03-01,entry\n"))
    assert table.exits.shape == table.entries.shape
    assert table.n_exits == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol,day,action\nAAPL,2023-03-01,entry\n", r"line 1: missing column\(s\) date"),
        ("symbol,date,action\nAAPL,2023-03-01,buy\n", "line 2: column action: 'buy'"),
        (
            "symbol,date,action\nAAPL,2023-03-01,entry\nAAPL,03/02/2023,exit\n",
            "line 3: column date: '03/02/2023' is not an ISO date",
        ),
        (
            "symbol,date,action\nAAPL,2023-03-01T15:30:00Z,entry\n",
            r"line 2: column date: .* \(has a time\)",
        ),
        ("symbol,date,action\nAA PL,2023-03-01,entry\n", "line 2: column symbol: 'AA PL'"),
        ("symbol,date,action\nAAPL,2023-03-01\n", "line 2: 2 field"),
        ("symbol,date,action\n", "no signals"),
        ("", "empty file"),
    ],
)
def test_a_bad_file_names_the_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as caught:
        read_signal_file(path)
    assert str(path) in str(caught.value)


def test_symbols_outside_the_data_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "symbol,date,action\nAAPL,2023-03-01,entry\nZZZZ,2023-03-02,entry\n")
    with pytest.raises(ValueError, match="line 3: column symbol: ZZZZ is not in the data"):
        read_signal_file(path, symbols=["aapl", "MSFT"])
    assert read_signal_file(path, symbols=["AAPL", "ZZZZ"]).symbols == ("AAPL", "ZZZZ")


def test_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_signal_file(tmp_path / "nope.csv")


def test_from_frames_aligns_dates_and_symbols_and_reads_naive_dates_as_utc() -> None:
    entries = pd.DataFrame(
        {"aapl": [True, False]}, index=pd.to_datetime(["2023-01-02", "2023-01-03"])
    )
    exits = pd.DataFrame({"MSFT": [True]}, index=pd.to_datetime(["2023-01-04"]))
    table = SignalTable.from_frames(entries, exits)
    assert table.symbols == ("AAPL", "MSFT")
    assert str(pd.DatetimeIndex(table.entries.index).tz) == "UTC"
    assert table.entries.shape == table.exits.shape == (3, 2)
    assert list(table.entries.loc[day("2023-01-04")]) == [False, False]
    assert list(table.exits.loc[day("2023-01-04")]) == [False, True]
