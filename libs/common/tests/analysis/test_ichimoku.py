"""Ichimoku against a pandas reference; the cloud at bar i is the one computed at i - 26."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import ichimoku
from swingflow_common.analysis.base import OHLCV


def _midrange(high: pd.Series, low: pd.Series, period: int) -> pd.Series:
    return (high.rolling(period).max() + low.rolling(period).min()) / 2


def test_ichimoku_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    above_seen = below_seen = 0
    for symbol, bars in sp500.items():
        high, low, close = pd.Series(bars.high), pd.Series(bars.low), pd.Series(bars.close)
        tenkan, kijun = _midrange(high, low, 9), _midrange(high, low, 26)
        span_a = ((tenkan + kijun) / 2).shift(26)
        span_b = _midrange(high, low, 52).shift(26)
        above = (close > np.maximum(span_a, span_b)).astype(float).where(span_b.notna())
        out = ichimoku.compute(bars)
        np.testing.assert_allclose(out["ichimoku_tenkan"], tenkan, err_msg=symbol)
        np.testing.assert_allclose(out["ichimoku_kijun"], kijun, err_msg=symbol)
        np.testing.assert_allclose(out["ichimoku_span_a"], span_a, err_msg=symbol)
        np.testing.assert_allclose(out["ichimoku_span_b"], span_b, err_msg=symbol)
        np.testing.assert_array_equal(out["ichimoku_above_cloud"], above, err_msg=symbol)
        above_seen += int(np.nansum(out["ichimoku_above_cloud"]))
        below_seen += int(np.nansum(1 - out["ichimoku_above_cloud"]))
    assert above_seen > 0
    assert below_seen > 0


def test_ichimoku_cloud_at_a_bar_was_known_26_bars_earlier() -> None:
    bars = random_walk_bars(200, seed=5)
    full = ichimoku.compute(bars)
    for i in (77, 120, 199):
        known = ichimoku.compute(bars.head(i - 26 + 1))  # bars 0 .. i-26 only
        tenkan, kijun = known["ichimoku_tenkan"][-1], known["ichimoku_kijun"][-1]
        assert full["ichimoku_span_a"][i] == (tenkan + kijun) / 2
        high, low = bars.high[i - 26 - 51 : i - 26 + 1], bars.low[i - 26 - 51 : i - 26 + 1]
        assert full["ichimoku_span_b"][i] == (high.max() + low.min()) / 2


def test_ichimoku_has_no_lagging_span() -> None:
    out = ichimoku.compute(random_walk_bars(100))
    assert not any("chikou" in key or "lagging" in key for key in out)


@pytest.mark.parametrize(
    ("n", "key"),
    [
        (0, "ichimoku_tenkan"),
        (8, "ichimoku_tenkan"),
        (77, "ichimoku_above_cloud"),
        (1, "ichimoku_span_a"),
    ],
)
def test_ichimoku_is_nan_during_its_warm_up(n: int, key: str) -> None:
    out = ichimoku.compute(random_walk_bars(n))
    assert out[key].shape == (n,)
    assert np.isnan(out[key]).all()
