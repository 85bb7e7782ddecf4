"""Rolling VWAP (14) against the StockCharts worksheet and a pandas reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import vwap
from swingflow_common.analysis.base import OHLCV


def test_vwap_matches_stockcharts_worksheet(stockcharts: Path) -> None:
    table = pd.read_csv(stockcharts / "cs-vwap.csv")
    high, low, close, volume = (
        table[c].to_numpy(np.float64) for c in ("High", "Low", "Close", "Volume")
    )
    ts = pd.to_datetime(table["Date"], format="%d-%b-%y").to_numpy("datetime64[ns]")
    out = vwap.compute(OHLCV(ts, close.copy(), high, low, close, volume))
    # The worksheet averages over the bars it has while fewer than 14 exist (rows 0-12);
    # the module calls those rows warm-up. From row 13 on, the windows are the same.
    full = np.arange(len(table)) >= 13
    assert np.isnan(out["vwap_14"][~full]).all()
    np.testing.assert_allclose(out["vwap_14"][full], table["vwap"][full], rtol=1e-12)
    np.testing.assert_allclose(
        out["close_vs_vwap"][full], close[full] / table["vwap"][full] - 1, rtol=1e-9
    )


def test_vwap_matches_pandas_reference_on_real_bars(sp500: dict[str, OHLCV]) -> None:
    for symbol, bars in sp500.items():
        frame = pd.DataFrame({"h": bars.high, "l": bars.low, "c": bars.close, "v": bars.volume})
        typical = (frame.h + frame.l + frame.c) / 3
        expected = (typical * frame.v).rolling(14).sum() / frame.v.rolling(14).sum()
        out = vwap.compute(bars)
        np.testing.assert_allclose(out["vwap_14"], expected, rtol=1e-10, err_msg=symbol)
        np.testing.assert_allclose(
            out["close_vs_vwap"], frame.c / expected - 1, rtol=1e-7, atol=1e-12, err_msg=symbol
        )


def test_vwap_is_nan_not_inf_when_the_window_has_no_volume() -> None:
    bars = bars_from_closes(np.linspace(10.0, 12.0, 30), spread=0.1, volume=0.0)
    out = vwap.compute(bars)
    assert np.isnan(out["vwap_14"]).all()
    assert np.isnan(out["close_vs_vwap"]).all()


@pytest.mark.parametrize("n", [0, 1, 13])
def test_vwap_is_all_nan_before_fourteen_bars(n: int) -> None:
    out = vwap.compute(random_walk_bars(n))
    for key in vwap.KEYS:
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()
