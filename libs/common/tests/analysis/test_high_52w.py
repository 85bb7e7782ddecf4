"""52-week high against a pandas reference on ten years of real bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import high_52w
from swingflow_common.analysis.base import OHLCV


def test_high_52w_matches_pandas_reference_on_real_bars(megacaps: dict[str, OHLCV]) -> None:
    at_high = 0
    for symbol, bars in megacaps.items():
        high = pd.Series(bars.high).rolling(252).max()
        out = high_52w.compute(bars)
        np.testing.assert_allclose(out["high_52w"], high, err_msg=symbol)
        np.testing.assert_allclose(
            out["dist_52w_high"], bars.close / high - 1, rtol=1e-12, err_msg=symbol
        )
        assert np.nanmax(out["dist_52w_high"]) <= 0.0
        at_high += int(np.sum(out["dist_52w_high"] > -0.01))
    assert at_high > 0


def test_one_year_of_bars_has_no_52_week_high(sp500: dict[str, OHLCV]) -> None:
    # bytetheory holds 245 sessions: fewer than 252, so the feature never warms up there.
    for bars in sp500.values():
        assert len(bars) < 252
        assert np.isnan(high_52w.compute(bars)["high_52w"]).all()


@pytest.mark.parametrize("n", [0, 1, 251])
def test_high_52w_is_all_nan_before_252_bars(n: int) -> None:
    out = high_52w.compute(random_walk_bars(n))
    for key in high_52w.KEYS:
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()
