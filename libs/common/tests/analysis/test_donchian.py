"""Donchian channel against the StockCharts worksheet and a pandas reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import donchian
from swingflow_common.analysis.base import OHLCV


def _reference_bars(path: Path) -> tuple[OHLCV, pd.DataFrame]:
    table = pd.read_csv(path)
    n = len(table)
    high, low, close = (table[c].to_numpy(np.float64) for c in ("high", "low", "close"))
    bars = OHLCV(
        ts=pd.to_datetime(table["date"]).to_numpy("datetime64[ns]"),
        open=close.copy(),
        high=high,
        low=low,
        close=close,
        volume=np.ones(n),
    )
    return bars, table


def test_donchian_matches_stockcharts_worksheet(stockcharts: Path) -> None:
    bars, table = _reference_bars(stockcharts / "cs-dc.csv")
    out = donchian.compute(bars)
    has_value = table["upper_band"].notna().to_numpy()
    # The worksheet starts at the 20th row, as the module does: no excluded rows.
    np.testing.assert_array_equal(has_value, ~np.isnan(out["dc_upper"]))
    np.testing.assert_allclose(out["dc_upper"][has_value], table["upper_band"][has_value])
    np.testing.assert_allclose(out["dc_lower"][has_value], table["lower_band"][has_value])
    # The worksheet rounds the middle band to cents.
    middle = table["middle_band"][has_value].to_numpy()
    assert np.max(np.abs(out["dc_middle"][has_value] - middle)) <= 0.005 + 1e-9


def test_donchian_matches_pandas_rolling_extremes_on_real_bars(
    sp500: dict[str, OHLCV],
) -> None:
    for symbol, bars in sp500.items():
        high, low = pd.Series(bars.high), pd.Series(bars.low)
        upper = high.rolling(20).max()
        lower = low.rolling(20).min()
        out = donchian.compute(bars)
        np.testing.assert_allclose(out["dc_upper"], upper, err_msg=symbol)
        np.testing.assert_allclose(out["dc_lower"], lower, err_msg=symbol)
        np.testing.assert_allclose(out["dc_middle"], (upper + lower) / 2, err_msg=symbol)
        np.testing.assert_allclose(out["high_20_prior"], upper.shift(1), err_msg=symbol)


def test_high_20_prior_excludes_the_current_bar() -> None:
    bars = random_walk_bars(60, seed=3)
    spike = bars.high.copy()
    spike[40] = spike.max() * 2  # a new high on bar 40
    out = donchian.compute(OHLCV(bars.ts, bars.open, spike, bars.low, bars.close, bars.volume))
    assert out["dc_upper"][40] == spike[40]
    assert out["high_20_prior"][40] == spike[20:40].max() < spike[40]
    assert out["high_20_prior"][41] == spike[40]


@pytest.mark.parametrize("n", [0, 1, 19])
def test_donchian_is_all_nan_before_twenty_bars(n: int) -> None:
    out = donchian.compute(random_walk_bars(n))
    assert set(donchian.KEYS) <= set(out)
    for key in donchian.KEYS:
        assert out[key].dtype == np.float64
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()
