"""Volatility regime against a pandas reference, and the rolling percentile by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import volatility_regime
from swingflow_common.analysis._rolling_rank import rolling_percentile
from swingflow_common.analysis.base import OHLCV


def _percentile_of_last(window: np.ndarray) -> float:
    others, current = window[:-1], window[-1]
    return float(((others < current).sum() + 0.5 * (others == current).sum()) / others.size)


def test_volatility_regime_matches_pandas_reference_on_real_bars(
    megacaps: dict[str, OHLCV],
) -> None:
    for symbol, bars in megacaps.items():
        vol = pd.Series(np.log(bars.close)).diff().rolling(20).std() * math.sqrt(252)
        regime = vol.rolling(252).apply(_percentile_of_last, raw=True)
        out = volatility_regime.compute(bars)
        np.testing.assert_allclose(out["vol_20"], vol, rtol=1e-10, err_msg=symbol)
        # Same percentiles (none differ today); two vols a float rounding apart could
        # swap order between the two std algorithms, so a handful is tolerated.
        differs = ~np.isclose(out["vol_regime"], regime, atol=1e-12, equal_nan=True)
        assert differs.sum() <= 5, symbol
        assert np.isnan(out["vol_regime"][:271]).all()
        assert not np.isnan(out["vol_regime"][271:]).any()


def test_rolling_percentile_orders_calm_to_volatile() -> None:
    rising = rolling_percentile(np.arange(10.0), 4)
    np.testing.assert_array_equal(rising[3:], 1.0)
    falling = rolling_percentile(np.arange(10.0)[::-1].copy(), 4)
    np.testing.assert_array_equal(falling[3:], 0.0)
    flat = rolling_percentile(np.full(10, 2.5), 4)
    np.testing.assert_array_equal(flat[3:], 0.5)  # ties count half
    assert np.isnan(rising[:3]).all()


def test_rolling_percentile_counts_ties_half_and_restarts_after_nan() -> None:
    values = np.array([1.0, 3.0, 2.0, 3.0, np.nan, 5.0, 4.0, 6.0, 5.0])
    out = rolling_percentile(values, 4)
    # Bar 3: others 1, 3, 2 -> two below, one equal -> (2 + 0.5) / 3.
    assert out[3] == pytest.approx(2.5 / 3)
    assert np.isnan(out[4:8]).all()  # the NaN at 4 empties the window
    # Bar 8: others 5, 4, 6 -> one below, one equal -> (1 + 0.5) / 3.
    assert out[8] == pytest.approx(1.5 / 3)


def test_rolling_percentile_matches_brute_force_on_random_values() -> None:
    rng = np.random.default_rng(11)
    values = np.round(rng.normal(size=600), 1)  # rounding makes many ties
    values[rng.integers(0, 600, 5)] = np.nan
    expected = pd.Series(values).rolling(50).apply(_percentile_of_last, raw=True)
    np.testing.assert_allclose(rolling_percentile(values, 50), expected, atol=1e-15)


@pytest.mark.parametrize(("n", "key"), [(0, "vol_20"), (20, "vol_20"), (271, "vol_regime")])
def test_volatility_regime_is_nan_during_warm_up(n: int, key: str) -> None:
    out = volatility_regime.compute(random_walk_bars(n))
    assert out[key].shape == (n,)
    assert np.isnan(out[key]).all()
