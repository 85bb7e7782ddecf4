"""The per-session return book behind rs_rank: the previous session, NaN sessions, trim."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from swingflow_common.analysis import relative_strength
from swingflow_scanner.ranks import RocBook

DAY = 86_400 * 10**9


def test_a_bar_is_ranked_on_the_previous_session_like_the_batch_rank() -> None:
    panel = pd.DataFrame(
        {"A": [1.0, 5.0, 2.0], "B": [2.0, math.nan, 3.0], "C": [3.0, 1.0, 1.0]},
        index=pd.DatetimeIndex([0, DAY, 2 * DAY], tz="UTC"),
    )
    book = RocBook()
    for t, row in enumerate(panel.itertuples(index=False)):
        for symbol, value in zip(panel.columns, row, strict=True):
            book.record(symbol, t * DAY, value)
    batch = relative_strength.rank(panel)
    for t in range(3):
        for symbol in panel.columns:
            live = book.rank(symbol, t * DAY)
            expected = batch.iloc[t][symbol]
            assert (live is None and math.isnan(expected)) or live == expected


def test_a_session_where_no_symbol_had_a_return_still_counts_as_the_previous_one() -> None:
    book = RocBook()
    book.record("A", 0, 1.0)
    book.record("B", 0, 2.0)
    book.record("A", DAY, math.nan)  # a session with bars but no 63-day return
    assert book.rank("B", DAY) == 1.0
    assert book.rank("B", 2 * DAY) is None


def test_trim_keeps_the_latest_sessions() -> None:
    book = RocBook()
    for t in range(10):
        book.record("A", t * DAY, float(t))
    book.trim(3)
    assert len(book) == 3
    assert book.previous(8 * DAY) == 7 * DAY
    assert book.previous(7 * DAY) is None


def test_rank_by_bisection_equals_rank_from_latest_with_ties() -> None:
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(size=300), 1)  # rounded: many ties
    book = RocBook()
    latest = {}
    for k, value in enumerate(values):
        book.record(f"S{k}", 0, float(value))
        latest[f"S{k}"] = float(value)
    book.record("NAN", 0, math.nan)
    for symbol in [*latest, "NAN", "ABSENT"]:
        assert book.rank(symbol, DAY) == relative_strength.rank_from_latest(latest, symbol)


def test_a_return_recorded_after_a_rank_is_counted() -> None:
    book = RocBook()
    book.record("A", 0, 1.0)
    book.record("B", 0, 2.0)
    assert book.rank("A", DAY) == 0.0
    book.record("C", 0, 0.5)  # a late bar of the same session
    assert book.rank("A", DAY) == 0.5
