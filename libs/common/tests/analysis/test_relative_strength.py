"""Relative strength: lagged cross-sectional percentiles, batch and live paths agree."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from swingflow_common.analysis import relative_strength as rs


def _panel() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=3, tz="UTC")
    return pd.DataFrame(
        {
            "A": [0.10, 0.30, np.nan],
            "B": [0.20, 0.30, 0.00],
            "C": [0.30, np.nan, 0.10],
            "D": [0.20, 0.10, 0.20],
        },
        index=dates,
    )


def test_rank_gives_each_row_the_percentiles_of_the_row_before() -> None:
    ranked = rs.rank(_panel())
    assert ranked.iloc[0].isna().all()  # nothing before the first session
    # Row 1 ranks row 0: A 0.10 < B 0.20 = D 0.20 < C 0.30 among 4 symbols.
    assert ranked.iloc[1].to_dict() == {"A": 0.0, "B": 0.5, "C": 1.0, "D": 0.5}
    # Row 2 ranks row 1 among the 3 with a value: D 0.10 < A 0.30 = B 0.30; C had none.
    row2 = ranked.iloc[2]
    assert row2["A"] == row2["B"] == pytest.approx((1 + 0.5) / 2)
    assert row2["D"] == 0.0
    assert math.isnan(row2["C"])


def test_rank_is_undefined_after_a_session_with_a_single_symbol() -> None:
    panel = pd.DataFrame({"A": [0.1, 0.2], "B": [np.nan, 0.3]})
    assert rs.rank(panel).iloc[1].isna().all()
    assert rs.rank_from_latest({"A": 0.1, "B": math.nan}, "A") is None


def test_rank_from_latest_handles_missing_symbols_and_ties() -> None:
    latest = {"A": 0.1, "B": 0.2, "C": 0.2, "D": math.nan}
    assert rs.rank_from_latest(latest, "A") == 0.0
    assert rs.rank_from_latest(latest, "B") == pytest.approx(0.75)  # (1 below + 0.5) / 2
    assert rs.rank_from_latest(latest, "D") is None
    assert rs.rank_from_latest(latest, "ZZZ") is None


def test_batch_rank_equals_live_rank_from_previous_session(sp500_long: pd.DataFrame) -> None:
    closes = sp500_long.pivot(index="ts", columns="symbol", values="close")
    roc = closes.pct_change(63, fill_method=None)
    ranked = rs.rank(roc)
    compared = 0
    for t in range(64, len(roc), 15):  # every 15th session once 63-day returns exist
        previous = {str(s): float(v) for s, v in roc.iloc[t - 1].items()}
        for symbol in roc.columns:
            live = rs.rank_from_latest(previous, str(symbol))
            batch = float(ranked.iloc[t][symbol])
            if live is None:
                assert math.isnan(batch)
            else:
                assert batch == live  # identical numbers, not just close
                compared += 1
    assert compared > 4000
    values = ranked.to_numpy()
    assert np.nanmin(values) == 0.0
    assert np.nanmax(values) == 1.0


def test_batch_and_live_agree_on_a_panel_full_of_ties_and_gaps() -> None:
    rng = np.random.default_rng(4)
    values = rng.integers(-3, 4, size=(30, 12)) / 10.0
    values[rng.random((30, 12)) < 0.2] = np.nan
    panel = pd.DataFrame(values, columns=[f"S{k}" for k in range(12)])
    ranked = rs.rank(panel)
    for t in range(1, 30):
        previous = {str(s): float(v) for s, v in panel.iloc[t - 1].items()}
        for symbol in panel.columns:
            live = rs.rank_from_latest(previous, symbol)
            batch = float(ranked.iloc[t][symbol])
            assert (live is None and math.isnan(batch)) or batch == live
