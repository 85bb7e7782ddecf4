"""Relative volume (20) against a pandas reference and a hand-made spike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import relative_volume
from swingflow_common.analysis.base import OHLCV


def test_rvol_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    for symbol, bars in sp500.items():
        volume = pd.Series(bars.volume)
        expected = volume / volume.rolling(20).mean().shift(1)
        out = relative_volume.compute(bars)["rvol_20"]
        np.testing.assert_allclose(out, expected, rtol=1e-9, err_msg=symbol)


def test_rvol_measures_a_spike_against_the_bars_before_it() -> None:
    bars = bars_from_closes(np.full(30, 50.0), spread=0.5, volume=1_000.0)
    volume = bars.volume.copy()
    volume[25] = 3_000.0
    out = relative_volume.compute(
        OHLCV(bars.ts, bars.open, bars.high, bars.low, bars.close, volume)
    )["rvol_20"]
    assert out[24] == pytest.approx(1.0)
    assert out[25] == pytest.approx(3.0)  # its own volume is not in its baseline
    # bar 26's baseline (bars 6-25) holds the spike
    assert out[26] == pytest.approx(1_000.0 / ((19 * 1_000.0 + 3_000.0) / 20))


def test_rvol_is_nan_not_inf_after_twenty_bars_without_volume() -> None:
    bars = bars_from_closes(np.full(25, 50.0), volume=0.0)
    assert np.isnan(relative_volume.compute(bars)["rvol_20"]).all()


@pytest.mark.parametrize("n", [0, 1, 20])
def test_rvol_is_all_nan_for_the_first_twenty_bars(n: int) -> None:
    out = relative_volume.compute(random_walk_bars(n))["rvol_20"]
    assert out.shape == (n,)
    assert np.isnan(out).all()
