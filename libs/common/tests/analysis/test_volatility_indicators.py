"""Bollinger bands and ATR against textbook references, on real bars and hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import atr, bollinger
from swingflow_common.analysis.base import OHLCV

SYMBOLS = ("AAPL", "MSFT", "XOM", "GE")


def _rank_of_last(window: np.ndarray) -> float:
    others, current = window[:-1], window[-1]
    return float(((others < current).sum() + 0.5 * (others == current).sum()) / others.size)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_bollinger_matches_population_std_bands_on_real_bars(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    bars = sp500[symbol]
    close = pd.Series(bars.close)
    mid = close.rolling(20).mean()
    std = close.rolling(20).std(ddof=0)
    upper, lower = mid + 2 * std, mid - 2 * std
    width = (upper - lower) / mid
    out = bollinger.compute(bars)
    np.testing.assert_allclose(out["bb_middle"], mid, rtol=1e-12)
    np.testing.assert_allclose(out["bb_upper"], upper, rtol=1e-9)
    np.testing.assert_allclose(out["bb_lower"], lower, rtol=1e-9)
    np.testing.assert_allclose(out["bb_width"], width, rtol=1e-7)
    np.testing.assert_allclose(out["bb_pctb"], (close - lower) / (upper - lower), rtol=1e-7)
    rank = width.rolling(120).apply(_rank_of_last, raw=True)
    same = np.isclose(out["bb_width_rank"], rank, atol=1e-12, equal_nan=True)
    assert same.all(), np.flatnonzero(~same)
    assert np.isnan(out["bb_width_rank"][:138]).all()
    assert not np.isnan(out["bb_width_rank"][138:]).any()


def test_bb_width_rank_is_0_for_the_tightest_band_and_1_for_the_widest() -> None:
    bars = random_walk_bars(400, seed=3)
    out = bollinger.compute(bars)
    width, rank = out["bb_width"], out["bb_width_rank"]
    for i in range(138, 400):
        window = width[i - 119 : i + 1]
        if width[i] == window.min():
            assert rank[i] == 0.0
        if width[i] == window.max():
            assert rank[i] == 1.0
    assert np.nanmin(rank) >= 0.0
    assert np.nanmax(rank) <= 1.0


def test_bollinger_of_a_flat_series_has_no_width_and_a_centred_close() -> None:
    out = bollinger.compute(bars_from_closes(np.full(150, 42.0)))
    assert (out["bb_width"][19:] == 0.0).all()
    assert (out["bb_pctb"][19:] == 0.5).all()
    assert (out["bb_width_rank"][138:] == 0.5).all()  # all ties
    assert np.isnan(out["bb_pctb"][:19]).all()


def test_bb_pctb_is_above_1_when_the_close_breaks_out_above_the_upper_band() -> None:
    closes = np.concatenate((100 + np.sin(np.arange(40)), [110.0]))
    out = bollinger.compute(bars_from_closes(closes))
    assert out["bb_pctb"][-1] > 1.0
    assert out["bb_upper"][-1] < 110.0


def wilder_atr(bars: OHLCV, period: int = 14) -> np.ndarray:
    """True range from bar 1; the first ATR is the mean of TR 1..14, then (a*13 + tr) / 14."""
    h, low, c = bars.high, bars.low, bars.close
    tr = np.maximum(h[1:], c[:-1]) - np.minimum(low[1:], c[:-1])
    out = np.full(c.shape[0], np.nan)
    out[period] = tr[:period].mean()
    for i in range(period + 1, c.shape[0]):
        out[i] = (out[i - 1] * (period - 1) + tr[i - 1]) / period
    return out


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_atr_matches_wilder_reference_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    expected = wilder_atr(bars)
    out = atr.compute(bars)
    np.testing.assert_allclose(out["atr_14"], expected, rtol=1e-10)
    np.testing.assert_allclose(out["natr_14"], 100 * expected / bars.close, rtol=1e-10)
    assert np.isnan(out["atr_14"][:14]).all()
    assert not np.isnan(out["atr_14"][14:]).any()


def test_atr_counts_the_gap_from_the_previous_close() -> None:
    # Each bar spans 1 (close - 0.75 .. close + 0.25) but its low sits 2.25 above the last
    # close, 3 lower: the true range is high - previous close = 3.25, not the bar's 1.
    closes = 100 + 3.0 * np.arange(40)
    bars = bars_from_closes(closes, open_=closes - 0.5, spread=0.25)
    np.testing.assert_allclose(bars.high - bars.low, 1.0)
    out = atr.compute(bars)
    np.testing.assert_allclose(out["atr_14"][14:], 3.25)
    np.testing.assert_allclose(out["natr_14"][-1], 325.0 / closes[-1])
