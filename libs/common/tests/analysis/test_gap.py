"""Opening gap in ATRs against a pandas reference with its own Wilder ATR."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import gap
from swingflow_common.analysis.base import OHLCV


def _wilder_atr(bars: OHLCV, period: int = 14) -> pd.Series:
    """TA-Lib's ATR written with pandas: true ranges from bar 1, first ATR their mean."""
    h, lo, c = pd.Series(bars.high), pd.Series(bars.low), pd.Series(bars.close)
    prev = c.shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    tr.iloc[0] = np.nan
    seeded = tr.copy()
    seeded.iloc[period] = tr.iloc[1 : period + 1].mean()
    return seeded.iloc[period:].ewm(alpha=1 / period, adjust=False).mean().reindex(tr.index)


def test_gap_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    for symbol, bars in sp500.items():
        close = pd.Series(bars.close)
        expected = (pd.Series(bars.open) - close.shift(1)) / _wilder_atr(bars).shift(1)
        out = gap.compute(bars)["gap_atr"]
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12, err_msg=symbol)
        assert np.isnan(out[:15]).all()
        assert not np.isnan(out[15:]).any()


def test_gap_uses_the_atr_known_before_the_open() -> None:
    # 20 bars of range 2 (ATR 2), then bar 20 opens 3 above bar 19's close and runs.
    close = np.full(21, 100.0)
    open_ = close.copy()
    open_[20], close[20] = 103.0, 110.0
    bars = bars_from_closes(close, spread=1.0, open_=open_)
    out = gap.compute(bars)["gap_atr"]
    assert out[20] == pytest.approx(3.0 / 2.0)  # not diluted by bar 20's own wide range
    assert out[19] == pytest.approx(0.0)


@pytest.mark.parametrize("n", [0, 1, 15])
def test_gap_is_all_nan_for_the_first_fifteen_bars(n: int) -> None:
    out = gap.compute(random_walk_bars(n))["gap_atr"]
    assert out.shape == (n,)
    assert np.isnan(out).all()
