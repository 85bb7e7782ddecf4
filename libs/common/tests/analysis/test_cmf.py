"""Chaikin Money Flow (20) against a pandas reference and hand-made bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import cmf
from swingflow_common.analysis.base import OHLCV


def _bars(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> OHLCV:
    ts = pd.bdate_range("2021-01-04", periods=close.shape[0]).to_numpy("datetime64[ns]")
    return OHLCV(ts, close.copy(), high, low, close, volume)


def test_cmf_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    for symbol, bars in sp500.items():
        h, lo, c = pd.Series(bars.high), pd.Series(bars.low), pd.Series(bars.close)
        v = pd.Series(bars.volume)
        multiplier = (((c - lo) - (h - c)) / (h - lo)).where(h != lo, 0.0)
        expected = (multiplier * v).rolling(20).sum() / v.rolling(20).sum()
        out = cmf.compute(bars)["cmf_20"]
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12, err_msg=symbol)
        assert np.nanmax(np.abs(out)) <= 1.0


def test_cmf_is_plus_one_when_every_bar_closes_at_its_high() -> None:
    n = 25
    low = np.linspace(10.0, 12.0, n)
    high = low + 1.0
    out = cmf.compute(_bars(high, low, high.copy(), np.full(n, 5e5)))["cmf_20"]
    np.testing.assert_allclose(out[19:], 1.0)


def test_cmf_counts_a_bar_without_range_as_neutral() -> None:
    n = 20
    high, low = np.full(n, 11.0), np.full(n, 9.0)
    close = low.copy()  # every bar closes at its low: multiplier -1 ...
    high[-1] = low[-1] = close[-1] = 10.0  # ... but the last one has no range: multiplier 0
    out = cmf.compute(_bars(high, low, close, np.ones(n)))["cmf_20"]
    assert out[-1] == pytest.approx(-19 / 20)


def test_cmf_is_nan_when_the_window_has_no_volume() -> None:
    bars = random_walk_bars(30, seed=2)
    out = cmf.compute(OHLCV(bars.ts, bars.open, bars.high, bars.low, bars.close, np.zeros(30)))
    assert np.isnan(out["cmf_20"]).all()


@pytest.mark.parametrize("n", [0, 1, 19])
def test_cmf_is_all_nan_before_twenty_bars(n: int) -> None:
    out = cmf.compute(random_walk_bars(n))["cmf_20"]
    assert out.shape == (n,)
    assert np.isnan(out).all()
