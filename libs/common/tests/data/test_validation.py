"""validate() names every bad row; repair() fixes or drops it and says what it did."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.data import DataError, DataIssue, repair, validate

Row = tuple[str, float, float, float, float, float]
MakeFrame = Callable[[list[Row]], pd.DataFrame]

GOOD = ("2010-01-04", 10.0, 11.0, 9.0, 10.5, 1000.0)


def _kinds(issues: list[DataIssue]) -> dict[tuple[str, str], str]:
    """(kind, date) -> action."""
    return {
        (i.kind, i.ts.strftime("%Y-%m-%d") if i.ts is not None else "-"): i.action for i in issues
    }


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        (("2010-01-05", 10.0, 9.0, 11.0, 10.0, 100.0), "high_below_low"),
        (("2010-01-05", 12.0, 11.0, 9.0, 10.0, 100.0), "high_below_open_close"),
        (("2010-01-05", 10.0, 11.0, 9.0, 8.5, 100.0), "low_above_open_close"),
        (("2010-01-05", np.nan, 11.0, 9.0, 10.0, 100.0), "non_finite_price"),
        (("2010-01-05", 10.0, np.inf, 9.0, 10.0, 100.0), "non_finite_price"),
        (("2010-01-05", 10.0, 11.0, 0.0, 10.0, 100.0), "non_positive_price"),
        (("2010-01-05", 10.0, 11.0, 9.0, 10.0, -5.0), "negative_volume"),
        (("2010-01-05", 10.0, 11.0, 9.0, 10.0, np.nan), "missing_volume"),
    ],
)
def test_validate_names_symbol_date_and_kind_of_a_bad_row(
    make_frame: MakeFrame, row: Row, kind: str
) -> None:
    frame = make_frame([GOOD, row, ("2010-01-06", 10.0, 11.0, 9.0, 10.0, 100.0)])
    issues = validate(frame, "ACME")
    assert [(i.symbol, i.ts, i.kind, i.action) for i in issues if i.kind == kind] == [
        ("ACME", pd.Timestamp("2010-01-05", tz="UTC"), kind, "reported")
    ]
    assert "ACME" in str(issues[0])
    assert "2010-01-05" in str(issues[0])


def test_validate_finds_nothing_in_clean_bars(make_frame: MakeFrame) -> None:
    rows = [(d, 10.0, 11.0, 9.0, 10.0, 5.0) for d in ("2010-01-04", "2010-01-05", "2010-01-06")]
    assert validate(make_frame(rows), "ACME") == []


def test_validate_reports_duplicate_and_unsorted_dates_without_changing_the_frame(
    make_frame: MakeFrame,
) -> None:
    frame = make_frame(
        [
            ("2010-01-05", 10.0, 11.0, 9.0, 10.0, 1.0),
            ("2010-01-04", 10.0, 11.0, 9.0, 10.0, 1.0),
            ("2010-01-05", 10.0, 11.0, 9.0, 10.0, 1.0),
        ]
    )
    before = frame.copy()
    kinds = _kinds(validate(frame, "ACME"))
    assert kinds == {("unsorted", "-"): "reported", ("duplicate_date", "2010-01-05"): "reported"}
    pd.testing.assert_frame_equal(frame, before)


def test_validate_reports_a_gap_of_several_sessions_but_not_a_holiday(
    make_frame: MakeFrame,
) -> None:
    # 2010-04-02 is Good Friday: no gap. 2010-04-13..2010-04-16 missing: a 4-session gap.
    days = ["2010-03-31", "2010-04-01", "2010-04-05", "2010-04-12", "2010-04-19"]
    frame = make_frame([(d, 10.0, 11.0, 9.0, 10.0, 1.0) for d in days])
    gaps = [i for i in validate(frame, "ACME") if i.kind == "missing_sessions"]
    assert [(i.ts.strftime("%Y-%m-%d"), i.message.split(" ")[3]) for i in gaps] == [
        ("2010-04-06", "4"),
        ("2010-04-13", "4"),
    ]


def test_validate_does_not_count_sessions_already_reported_for_the_universe(
    make_frame: MakeFrame,
) -> None:
    days = ["2009-10-28", "2009-11-05"]  # the S&P file's 5-session hole lies between
    frame = make_frame([(d, 10.0, 11.0, 9.0, 10.0, 1.0) for d in days])
    assert [i.kind for i in validate(frame, "ACME")] == ["missing_sessions"]
    known = pd.DatetimeIndex(
        ["2009-10-29", "2009-10-30", "2009-11-02", "2009-11-03", "2009-11-04"]
    ).tz_localize("UTC")
    assert validate(frame, "ACME", known_missing=known) == []


def test_a_halving_of_the_close_is_reported_as_a_possible_split(make_frame: MakeFrame) -> None:
    frame = make_frame(
        [
            ("2010-01-04", 100.0, 101.0, 99.0, 100.0, 1.0),
            ("2010-01-05", 50.0, 51.0, 49.0, 50.5, 2.0),  # 2:1 split in raw prices
            ("2010-01-06", 50.0, 56.0, 49.0, 55.0, 2.0),  # +9%: an ordinary move
        ]
    )
    jumps = [i for i in validate(frame, "ACME") if i.kind == "price_jump"]
    assert [(i.ts, i.action) for i in jumps] == [(pd.Timestamp("2010-01-05", tz="UTC"), "reported")]
    assert "-49.5%" in jumps[0].message
    fixed, issues = repair(frame, "ACME")
    assert len(fixed) == 3
    assert [i.kind for i in issues] == ["price_jump"]


def test_repair_widens_high_and_low_to_bracket_open_and_close(
    make_frame: MakeFrame, contract: Callable[..., None]
) -> None:
    frame = make_frame(
        [
            ("2010-01-04", 10.0, 10.2, 9.0, 10.5, 1.0),  # high below close
            ("2010-01-05", 10.0, 11.0, 9.8, 9.5, 1.0),  # low above close
        ]
    )
    fixed, issues = repair(frame, "ACME")
    contract(fixed)
    assert fixed["high"].tolist() == [10.5, 11.0]
    assert fixed["low"].tolist() == [9.0, 9.5]
    assert _kinds(issues) == {
        ("high_below_open_close", "2010-01-04"): "widened",
        ("low_above_open_close", "2010-01-05"): "widened",
    }


def test_repair_swaps_high_and_low_when_high_is_below_low(
    make_frame: MakeFrame, contract: Callable[..., None]
) -> None:
    fixed, issues = repair(make_frame([("2010-01-04", 10.0, 9.0, 11.0, 10.0, 1.0)]), "ACME")
    contract(fixed)
    assert (fixed["high"].iloc[0], fixed["low"].iloc[0]) == (11.0, 9.0)
    assert _kinds(issues) == {("high_below_low", "2010-01-04"): "swapped"}


def test_repair_drops_untrustworthy_rows_and_keeps_the_last_duplicate(
    make_frame: MakeFrame, contract: Callable[..., None]
) -> None:
    frame = make_frame(
        [
            ("2010-01-04", 10.0, 11.0, 9.0, 10.0, 1.0),
            ("2010-01-05", np.nan, 11.0, 9.0, 10.0, 1.0),
            ("2010-01-06", 10.0, 11.0, -1.0, 10.0, 1.0),
            ("2010-01-07", 10.0, 11.0, 9.0, 10.0, -3.0),
            ("2010-01-08", 10.0, 11.0, 9.0, 10.0, 1.0),
            ("2010-01-08", 11.0, 12.0, 10.0, 11.0, 2.0),
        ]
    )
    fixed, issues = repair(frame, "ACME")
    contract(fixed)
    assert list(fixed.index.strftime("%Y-%m-%d")) == ["2010-01-04", "2010-01-08"]
    assert fixed.loc["2010-01-08", "close"] == 11.0
    assert _kinds(issues) == {
        ("non_finite_price", "2010-01-05"): "dropped",
        ("non_positive_price", "2010-01-06"): "dropped",
        ("negative_volume", "2010-01-07"): "dropped",
        ("duplicate_date", "2010-01-08"): "kept_last",
        # the three dropped sessions now form a gap, which is reported, not filled
        ("missing_sessions", "2010-01-05"): "reported",
    }


def test_repair_keeps_a_row_with_missing_volume_and_says_so(make_frame: MakeFrame) -> None:
    fixed, issues = repair(make_frame([("2010-01-04", 10.0, 11.0, 9.0, 10.0, np.nan)]), "ACME")
    assert len(fixed) == 1
    assert np.isnan(fixed["volume"].iloc[0])
    assert _kinds(issues) == {("missing_volume", "2010-01-04"): "kept"}
    assert repair(fixed, "ACME", require_volume=False)[1] == []


def test_repair_sorts_a_shuffled_frame_and_leaves_the_input_untouched(
    make_frame: MakeFrame, contract: Callable[..., None]
) -> None:
    frame = make_frame(
        [("2010-01-05", 10.0, 9.0, 11.0, 10.0, 1.0), ("2010-01-04", 10.0, 11.0, 9.0, 10.0, 1.0)]
    )
    before = frame.copy()
    fixed, issues = repair(frame, "ACME")
    contract(fixed)
    assert ("unsorted", "-") in _kinds(issues)
    pd.testing.assert_frame_equal(frame, before)


def test_repair_reads_naive_dates_as_utc_and_text_numbers_as_floats(
    contract: Callable[..., None],
) -> None:
    frame = pd.DataFrame(
        {
            "open": ["10", "10"],
            "high": ["11", "x"],
            "low": [9, 9],
            "close": [10, 10],
            "volume": [1, 1],
        },
        index=pd.DatetimeIndex(["2010-01-04", "2010-01-05"]),
    )
    fixed, issues = repair(frame, "ACME")
    contract(fixed)
    assert list(fixed.index.strftime("%Y-%m-%d")) == ["2010-01-04"]
    assert _kinds(issues) == {("non_finite_price", "2010-01-05"): "dropped"}


def test_repair_refuses_a_frame_without_bar_columns_with_a_data_error() -> None:
    frame = pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(["2010-01-04"]))
    with pytest.raises(DataError, match=r"ACME: missing column\(s\) open, high, low, volume"):
        repair(frame, "ACME")


_price = st.one_of(st.floats(0.5, 200.0), st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0]))
_row = st.tuples(
    st.integers(0, 15),  # business-day offset: small range so dates repeat
    _price,
    _price,
    _price,
    _price,
    st.one_of(st.floats(0.0, 1e7), st.sampled_from([np.nan, -1.0, np.inf])),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=25))
def test_repair_never_raises_and_accounts_for_every_dropped_row(
    rows: list[tuple[int, float, float, float, float, float]],
) -> None:
    start = pd.Timestamp("2010-01-04")
    frame = pd.DataFrame(
        [r[1:] for r in rows],
        columns=["open", "high", "low", "close", "volume"],
        index=pd.DatetimeIndex([start + pd.offsets.BDay(r[0]) for r in rows]),
    )
    fixed, issues = repair(frame, "ACME")

    dropped = sum(1 for i in issues if i.action == "dropped")
    duplicates = sum(int(i.message.split(" ")[0]) - 1 for i in issues if i.kind == "duplicate_date")
    assert len(fixed) == len(frame) - dropped - duplicates
    assert fixed.index.is_unique
    assert fixed.index.is_monotonic_increasing
    o, h, lo, c, v = (fixed[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    assert np.isfinite([o, h, lo, c]).all()
    assert (lo > 0).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (np.maximum(o, c) <= h).all()
    assert ((v >= 0) | np.isnan(v)).all()
    # What repair leaves behind, validate has nothing left to fix in (reports aside).
    reports = {"missing_sessions", "missing_volume", "price_jump"}
    left = {i.kind for i in validate(fixed, "ACME")} - reports
    assert left == set()


def test_validate_and_repair_agree_on_which_rows_are_bad(make_frame: MakeFrame) -> None:
    frame = make_frame(
        [
            ("2010-01-04", 10.0, 10.2, 9.0, 10.5, 1.0),
            ("2010-01-05", 10.0, 11.0, 9.0, 10.0, -1.0),
            ("2010-01-06", 10.0, 11.0, 9.0, 10.0, 1.0),
        ]
    )
    reported = {(i.kind, i.ts) for i in validate(frame, "ACME")}
    acted = {(i.kind, i.ts) for i in repair(frame, "ACME")[1]}
    assert reported == acted
