"""Keltner channel (StockCharts version) against the worksheet and a pandas reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from factories import random_walk_bars

from swingflow_common.analysis import keltner
from swingflow_common.analysis.base import OHLCV


def _bars(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> OHLCV:
    n = close.shape[0]
    ts = pd.bdate_range("2010-04-01", periods=n).to_numpy("datetime64[ns]")
    return OHLCV(ts, close.copy(), high, low, close, np.ones(n))


def _pandas_keltner(bars: OHLCV) -> tuple[pd.Series, pd.Series]:
    """Middle band and ATR(10) as the worksheet defines them, written with pandas."""
    high, low, close = pd.Series(bars.high), pd.Series(bars.low), pd.Series(bars.close)
    prev = close.shift(1).fillna(close)
    tr = pd.concat([high, prev], axis=1).max(axis=1) - pd.concat([low, prev], axis=1).min(axis=1)
    middle = close.ewm(span=20, adjust=False).mean()
    seeded = tr.copy()
    seeded.iloc[9] = tr.iloc[:10].mean()
    atr = seeded.iloc[9:].ewm(alpha=0.1, adjust=False).mean().reindex(tr.index)
    return middle, atr


def test_keltner_matches_stockcharts_worksheet(stockcharts: Path) -> None:
    table = pd.read_csv(stockcharts / "cs-kc.csv")
    high, low, close = (table[c].to_numpy(np.float64) for c in ("High", "Low", "Close"))
    out = keltner.compute(_bars(high, low, close))
    # The worksheet shows its EMA from the first close and its bands from bar 9 (when its
    # ATR exists); the module reports nothing before the EMA's 20-bar warm-up (bar 19),
    # so the worksheet's rows 0-18 are warm-up here. From bar 19 every row must match.
    compared = np.arange(len(table)) >= 19
    assert np.isnan(out["kc_middle"][~compared]).all()
    assert np.isnan(out["kc_upper"][~compared]).all()
    for key, column in (("kc_middle", "middle_band"), ("kc_upper", "upper_band")):
        np.testing.assert_allclose(out[key][compared], table[column][compared], atol=1e-9)
    np.testing.assert_allclose(out["kc_lower"][compared], table["lower_band"][compared], atol=1e-9)


def test_keltner_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    for symbol, bars in sp500.items():
        middle, atr = _pandas_keltner(bars)
        middle[:19] = np.nan
        out = keltner.compute(bars)
        np.testing.assert_allclose(out["kc_middle"], middle, rtol=1e-12, err_msg=symbol)
        np.testing.assert_allclose(out["kc_upper"], middle + 2 * atr, rtol=1e-12, err_msg=symbol)
        np.testing.assert_allclose(out["kc_lower"], middle - 2 * atr, rtol=1e-12, err_msg=symbol)


def test_keltner_middle_converges_to_talib_ema_once_the_seed_fades(
    sp500: dict[str, OHLCV],
) -> None:
    bars = sp500["MSFT"]
    out = keltner.compute(bars)
    ema = talib.EMA(bars.close, timeperiod=20)
    early = abs(out["kc_middle"][19] - ema[19])
    late = np.max(np.abs(out["kc_middle"][200:] - ema[200:]))
    assert late < 1e-6 * bars.close[200:].min()
    assert late < early  # the seeds differ at first, then the difference decays


@pytest.mark.parametrize("n", [0, 1, 10, 19])
def test_keltner_is_all_nan_before_twenty_bars(n: int) -> None:
    out = keltner.compute(random_walk_bars(n))
    for key in keltner.KEYS:
        assert out[key].dtype == np.float64
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()
