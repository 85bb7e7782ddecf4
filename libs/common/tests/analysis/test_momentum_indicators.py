"""RSI, stochastic, Williams %R, CCI and ROC against textbook references, on real bars and
on hand-made series whose values follow from the definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import cci, roc, rsi, stochastic, williams_r
from swingflow_common.analysis.base import OHLCV

SYMBOLS = ("AAPL", "MSFT", "XOM", "GE")
RISING = np.linspace(10.0, 40.0, 60)
FALLING = RISING[::-1].copy()
FLAT = np.full(60, 25.0)


def wilder_rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder: first averages are the plain means of changes 1..14, then (a*13 + x) / 14."""
    change = np.diff(close)
    gain, loss = np.maximum(change, 0.0), np.maximum(-change, 0.0)
    out = np.full(close.shape[0], np.nan)
    avg_gain, avg_loss = gain[:period].mean(), loss[:period].mean()
    for i in range(period, close.shape[0]):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gain[i - 1]) / period
            avg_loss = (avg_loss * (period - 1) + loss[i - 1]) / period
        out[i] = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    return out


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_rsi_matches_wilder_reference_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    out = rsi.compute(bars)["rsi_14"]
    np.testing.assert_allclose(out, wilder_rsi(bars.close), rtol=1e-10)
    assert np.isnan(out[:14]).all()
    assert not np.isnan(out[14:]).any()


def test_rsi_of_a_strictly_rising_series_is_100_and_falling_is_0() -> None:
    assert (rsi.compute(bars_from_closes(RISING))["rsi_14"][14:] == 100.0).all()
    assert (rsi.compute(bars_from_closes(FALLING))["rsi_14"][14:] == 0.0).all()


def test_rsi_of_a_flat_series_is_neutral_not_oversold() -> None:
    out = rsi.compute(bars_from_closes(FLAT))["rsi_14"]
    assert talib.RSI(FLAT, 14)[-1] == 0.0  # what TA-Lib alone would report
    assert (out[14:] == 50.0).all()


def test_rsi_stays_at_zero_when_a_flat_start_gives_way_to_a_fall() -> None:
    closes = np.concatenate((np.full(20, 30.0), np.linspace(29.0, 20.0, 20)))
    out = rsi.compute(bars_from_closes(closes))["rsi_14"]
    assert (out[14:20] == 50.0).all()  # nothing has moved yet: undefined, reported neutral
    assert (out[20:] == 0.0).all()  # only losses since: genuinely 0


def slow_stochastic(bars: OHLCV) -> tuple[pd.Series, pd.Series]:
    high, low = pd.Series(bars.high).rolling(14).max(), pd.Series(bars.low).rolling(14).min()
    fast_k = 100 * (pd.Series(bars.close) - low) / (high - low)
    k = fast_k.rolling(3).mean()
    return k, k.rolling(3).mean()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_stochastic_matches_textbook_and_talib_on_real_bars(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    bars = sp500[symbol]
    k, d = slow_stochastic(bars)
    out = stochastic.compute(bars)
    np.testing.assert_allclose(out["stoch_k"], k, rtol=1e-10)
    np.testing.assert_allclose(out["stoch_d"], d, rtol=1e-10)
    ta_k, ta_d = talib.STOCH(bars.high, bars.low, bars.close, fastk_period=14)
    # bit for bit TA-Lib's STOCH, which starts both lines at bar 17 where %D begins
    np.testing.assert_array_equal(out["stoch_k"][17:], ta_k[17:])
    np.testing.assert_array_equal(out["stoch_d"], ta_d)
    assert np.isnan(out["stoch_k"][:15]).all()
    assert np.isnan(out["stoch_d"][:17]).all()
    assert not np.isnan(out["stoch_d"][17:]).any()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_stoch_cross_up_holds_on_the_cross_bar_and_the_next(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    out = stochastic.compute(sp500[symbol])
    k, d, flag = out["stoch_k"], out["stoch_d"], out["stoch_cross_up"]
    crossed = [k[i] > d[i] and k[i - 1] <= d[i - 1] for i in range(len(k))]
    assert np.isnan(flag[:19]).all()
    expected = [float(crossed[i] or crossed[i - 1]) for i in range(19, len(k))]
    np.testing.assert_array_equal(flag[19:], expected)
    assert flag[19:].sum() > 0


def test_stochastic_extremes_and_flat_range() -> None:
    up = stochastic.compute(bars_from_closes(RISING))  # every close is the window's high
    np.testing.assert_allclose(up["stoch_k"][15:], 100.0)
    down = stochastic.compute(bars_from_closes(FALLING))
    np.testing.assert_allclose(down["stoch_k"][15:], 0.0, atol=1e-12)
    flat = stochastic.compute(bars_from_closes(FLAT))
    assert (flat["stoch_k"][15:] == 50.0).all()  # no range: neutral, not oversold
    assert (flat["stoch_cross_up"][19:] == 0.0).all()


def test_stochastic_is_neutral_only_where_a_halt_leaves_a_window_without_range() -> None:
    walk = random_walk_bars(120, seed=5)
    halted = {name: getattr(walk, name).copy() for name in ("open", "high", "low", "close")}
    for values in halted.values():
        values[50:70] = walk.close[49]  # 20 bars that never trade away from one price
    bars = OHLCV(walk.ts, volume=walk.volume, **halted)
    out = stochastic.compute(bars)
    ta_k, ta_d = talib.STOCH(bars.high, bars.low, bars.close, fastk_period=14)
    # windows 63..69 hold only halted bars: fast %K 50, so %K is 50 once 3 of them are in
    assert (out["stoch_k"][65:70] == 50.0).all()
    assert ta_k[65] == pytest.approx(0.0, abs=1e-9)  # TA-Lib alone: deeply oversold
    # elsewhere (before bar 63, and once those fast values leave both averages) TA-Lib's
    np.testing.assert_array_equal(out["stoch_k"][17:63], ta_k[17:63])
    np.testing.assert_array_equal(out["stoch_d"][:63], ta_d[:63])
    # (to rounding: TA-Lib's SMA keeps a running sum, which remembers the 50s in its bits)
    np.testing.assert_allclose(out["stoch_d"][74:], ta_d[74:], rtol=1e-12)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_williams_r_matches_textbook_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    high, low = pd.Series(bars.high).rolling(14).max(), pd.Series(bars.low).rolling(14).min()
    expected = -100 * (high - bars.close) / (high - low)
    out = williams_r.compute(bars)["willr_14"]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)
    assert np.isnan(out[:13]).all()
    assert not np.isnan(out[13:]).any()


def test_williams_r_is_0_at_the_top_minus_100_at_the_bottom_and_neutral_when_flat() -> None:
    np.testing.assert_allclose(williams_r.compute(bars_from_closes(RISING))["willr_14"][13:], 0)
    np.testing.assert_allclose(
        williams_r.compute(bars_from_closes(FALLING))["willr_14"][13:], -100.0
    )
    assert (williams_r.compute(bars_from_closes(FLAT))["willr_14"][13:] == -50.0).all()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_cci_matches_lambert_definition_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    tp = pd.Series((bars.high + bars.low + bars.close) / 3)
    mean_dev = tp.rolling(20).apply(lambda w: np.abs(w - w.mean()).mean(), raw=True)
    expected = (tp - tp.rolling(20).mean()) / (0.015 * mean_dev)
    out = cci.compute(bars)["cci_20"]
    np.testing.assert_allclose(out, expected, rtol=1e-8, atol=1e-8)
    assert np.isnan(out[:19]).all()
    assert not np.isnan(out[19:]).any()


def test_cci_of_a_steady_rise_is_positive_and_of_a_flat_series_zero() -> None:
    # From bar 20 on (bar 0 has no wick) the typical price is a straight line: tp - mean
    # = 9.5 steps, mean deviation = 5 steps -> 9.5 / (0.015 * 5).
    steady = cci.compute(bars_from_closes(RISING))["cci_20"][20:]
    np.testing.assert_allclose(steady, 9.5 / (0.015 * 5.0), rtol=1e-9)
    assert (cci.compute(bars_from_closes(FLAT))["cci_20"][19:] == 0.0).all()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_roc_is_the_percent_change_over_10_and_63_bars(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    close = pd.Series(sp500[symbol].close)
    out = roc.compute(sp500[symbol])
    np.testing.assert_allclose(out["roc_10"], 100 * (close / close.shift(10) - 1), rtol=1e-10)
    np.testing.assert_allclose(out["roc_63"], 100 * (close / close.shift(63) - 1), rtol=1e-10)
    assert np.isnan(out["roc_63"][:63]).all()
    assert not np.isnan(out["roc_63"][63:]).any()


def test_roc_of_a_doubling_is_100_percent() -> None:
    closes = 10.0 * 2.0 ** (np.arange(80) / 63.0)  # doubles every 63 bars
    out = roc.compute(bars_from_closes(closes))
    np.testing.assert_allclose(out["roc_63"][63:], 100.0, rtol=1e-9)
    np.testing.assert_allclose(out["roc_10"][10:], 100.0 * (2 ** (10 / 63) - 1), rtol=1e-9)
