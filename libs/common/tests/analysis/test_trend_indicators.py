"""Moving averages, MACD and ADX against textbook references written here in pandas/numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import bars_from_closes

from swingflow_common.analysis import adx, macd, moving_averages
from swingflow_common.analysis.base import OHLCV

SYMBOLS = ("AAPL", "MSFT", "XOM", "GE")


def sma_seeded_ema(values: np.ndarray, period: int) -> np.ndarray:
    """Textbook EMA: the first value is the SMA of the first `period`, then recursive."""
    out = np.full(values.shape[0], np.nan)
    start = int(np.argmax(~np.isnan(values)))
    if values.shape[0] - start < period:
        return out
    alpha = 2.0 / (period + 1)
    out[start + period - 1] = values[start : start + period].mean()
    for i in range(start + period, values.shape[0]):
        out[i] = out[i - 1] + alpha * (values[i] - out[i - 1])
    return out


def wilder_dmi(bars: OHLCV, period: int = 14) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wilder's +DI, -DI and ADX as in New Concepts (and StockCharts' worksheet).

    TR, +DM, -DM from bar 1; the first smoothed sums are the plain sums of bars 1..14,
    then S = S - S/14 + x; ADX starts as the mean of the first 14 DX and is then
    smoothed as (ADX * 13 + DX) / 14.
    """
    h, low, c = bars.high, bars.low, bars.close
    n = c.shape[0]
    up = h[1:] - h[:-1]
    down = low[:-1] - low[1:]
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    tr = np.maximum(h[1:], c[:-1]) - np.minimum(low[1:], c[:-1])
    plus_di, minus_di, dx = (np.full(n, np.nan) for _ in range(3))
    s_tr, s_p, s_m = tr[:period].sum(), plus_dm[:period].sum(), minus_dm[:period].sum()
    for i in range(period, n):
        if i > period:
            j = i - 1  # index into the diff arrays for bar i
            s_tr = s_tr - s_tr / period + tr[j]
            s_p = s_p - s_p / period + plus_dm[j]
            s_m = s_m - s_m / period + minus_dm[j]
        plus_di[i] = 100 * s_p / s_tr
        minus_di[i] = 100 * s_m / s_tr
        dx[i] = 100 * abs(plus_di[i] - minus_di[i]) / (plus_di[i] + minus_di[i])
    adx_out = np.full(n, np.nan)
    first = 2 * period - 1
    adx_out[first] = dx[period : first + 1].mean()
    for i in range(first + 1, n):
        adx_out[i] = (adx_out[i - 1] * (period - 1) + dx[i]) / period
    return plus_di, minus_di, adx_out


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_moving_averages_match_textbook_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    close = pd.Series(bars.close)
    out = moving_averages.compute(bars)
    for p in (20, 50, 200):
        np.testing.assert_allclose(out[f"sma_{p}"], close.rolling(p).mean(), rtol=1e-12)
    for p in (10, 20, 50):
        np.testing.assert_allclose(out[f"ema_{p}"], sma_seeded_ema(bars.close, p), rtol=1e-12)
    sma50 = close.rolling(50).mean()
    np.testing.assert_allclose(
        out["sma_50_slope"], 100 * (sma50 / sma50.shift(10) - 1), rtol=1e-9, atol=1e-12
    )
    assert np.isnan(out["sma_50_slope"][:59]).all()
    assert not np.isnan(out["sma_50_slope"][59:]).any()


def test_sma_50_slope_is_the_percent_rise_of_a_linear_trend() -> None:
    bars = bars_from_closes(np.arange(1.0, 101.0))  # close = i + 1
    slope = moving_averages.compute(bars)["sma_50_slope"]
    # SMA50 at bar i is the mean of closes i-48 .. i+1, i.e. i - 23.5.
    assert slope[99] == pytest.approx(100 * ((99 - 23.5) / (89 - 23.5) - 1))


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_macd_matches_textbook_once_the_fast_seed_fades(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    """StockCharts' MACD: SMA-seeded EMA12 - EMA26, signal the SMA-seeded EMA9 of that.

    TA-Lib seeds its EMA12 at bar 25 (mean of closes 14..25) rather than at bar 11; the
    gap shrinks by 11/13 a bar, below 1e-6 by bar 120. The EMA26 and the signal are
    seeded as in the textbook.
    """
    bars = sp500[symbol]
    line = sma_seeded_ema(bars.close, 12) - sma_seeded_ema(bars.close, 26)
    signal = sma_seeded_ema(line, 9)
    out = macd.compute(bars)
    np.testing.assert_allclose(out["macd"][120:], line[120:], atol=1e-6)
    np.testing.assert_allclose(out["macd_signal"][120:], signal[120:], atol=1e-6)
    np.testing.assert_allclose(out["macd_hist"], out["macd"] - out["macd_signal"], atol=1e-12)
    assert np.isnan(out["macd"][:33]).all()
    assert not np.isnan(out["macd"][33:]).any()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_macd_cross_up_marks_exactly_the_bars_where_macd_rises_through_signal(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    out = macd.compute(sp500[symbol])
    line, signal, cross = out["macd"], out["macd_signal"], out["macd_cross_up"]
    assert np.isnan(cross[:34]).all()
    expected = [
        float(line[i] > signal[i] and line[i - 1] <= signal[i - 1])
        for i in range(34, line.shape[0])
    ]
    np.testing.assert_array_equal(cross[34:], expected)
    assert 0 < cross[34:].sum() < 20  # a year of daily bars crosses a few times


def test_macd_cross_up_fires_once_when_a_downtrend_turns_up() -> None:
    closes = np.concatenate((np.linspace(120, 80, 60), np.linspace(80, 120, 60)))
    out = macd.compute(bars_from_closes(closes))
    fired = np.flatnonzero(out["macd_cross_up"] == 1.0)
    assert fired.size == 1
    assert 60 <= fired[0] < 75  # soon after the turn at bar 59
    assert out["macd"][fired[0]] > out["macd_signal"][fired[0]]


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_adx_and_dis_match_wilder_reference_after_seed_fades(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    """TA-Lib seeds its smoothed sums with 13 values where Wilder uses 14.

    The gap fades by 13/14 a bar ((13/14)**136 < 5e-5 by bar 150): there the DIs agree to
    1e-4 points and the ADX, which smooths DX once more and so forgets more slowly, to
    2e-3 (on AAPL: 8e-6 and 4e-4).
    """
    bars = sp500[symbol]
    plus_di, minus_di, adx_ref = wilder_dmi(bars)
    out = adx.compute(bars)
    np.testing.assert_allclose(out["plus_di_14"][150:], plus_di[150:], atol=1e-4)
    np.testing.assert_allclose(out["minus_di_14"][150:], minus_di[150:], atol=1e-4)
    np.testing.assert_allclose(out["adx_14"][150:], adx_ref[150:], atol=2e-3)
    assert np.isnan(out["adx_14"][:27]).all()
    assert not np.isnan(out["adx_14"][27:]).any()
    assert np.isnan(out["plus_di_14"][:14]).all()


def test_adx_reads_a_steady_climb_as_a_strong_uptrend() -> None:
    bars = bars_from_closes(np.linspace(50, 100, 80), spread=0.2)
    out = adx.compute(bars)
    assert out["adx_14"][-1] > 50
    assert out["plus_di_14"][-1] > 0
    assert out["minus_di_14"][-1] == 0.0  # no bar made a lower low
