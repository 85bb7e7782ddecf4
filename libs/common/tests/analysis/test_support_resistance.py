"""Support / resistance from confirmed pivots against a plain-Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from factories import bars_from_closes, random_walk_bars

from swingflow_common.analysis import support_resistance as sr
from swingflow_common.analysis.base import OHLCV


def _reference(bars: OHLCV, k: int = 5, lookback: int = 120) -> tuple[list[float], list[float]]:
    """The slow way: at each bar, scan the pivot bars j in [i - lookback, i - k]."""
    high, low, close = list(bars.high), list(bars.low), list(bars.close)
    n = len(close)
    support, resistance = [math.nan] * n, [math.nan] * n
    for i in range(n):
        lows, highs = [], []
        for j in range(max(k, i - lookback), i - k + 1):
            if low[j] == min(low[j - k : j + k + 1]) and low[j] <= close[i]:
                lows.append(low[j])
            if high[j] == max(high[j - k : j + k + 1]) and high[j] >= close[i]:
                highs.append(high[j])
        support[i] = max(lows, default=math.nan)
        resistance[i] = min(highs, default=math.nan)
    return support, resistance


def test_support_resistance_matches_plain_python_reference_on_real_bars(
    sp500: dict[str, OHLCV],
) -> None:
    for symbol, bars in sp500.items():
        support, resistance = _reference(bars)
        atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=14)
        out = sr.compute(bars)
        np.testing.assert_array_equal(out["support"], support, err_msg=symbol)
        np.testing.assert_array_equal(out["resistance"], resistance, err_msg=symbol)
        np.testing.assert_allclose(
            out["dist_support_atr"], (bars.close - support) / atr, rtol=1e-12, err_msg=symbol
        )
        np.testing.assert_allclose(
            out["dist_resistance_atr"], (np.array(resistance) - bars.close) / atr, rtol=1e-12
        )
        assert np.nanmin(out["dist_support_atr"]) >= 0.0
        assert np.nanmin(out["dist_resistance_atr"]) >= 0.0
        assert np.isfinite(out["support"]).mean() > 0.5  # mostly defined on real bars


def test_a_swing_low_becomes_support_only_once_five_bars_confirm_it() -> None:
    # Down to a low of 90 on bar 20, then up: the pivot is known on bar 25, not before.
    close = np.concatenate((np.linspace(100.0, 90.0, 21), np.linspace(91.0, 100.0, 15)))
    bars = bars_from_closes(close, spread=0.5)
    out = sr.compute(bars)
    pivot_low = bars.low[20]
    assert np.isnan(out["support"][20:25]).all()
    assert out["support"][25] == pivot_low
    assert (out["support"][25:] == pivot_low).all()


def test_resistance_is_the_nearest_swing_high_above_the_close() -> None:
    # Two peaks (110 on bar 10, 105 on bar 30) then a dip to 100: 105 is the nearer one.
    close = np.concatenate(
        (
            np.linspace(100.0, 110.0, 11),
            np.linspace(109.0, 100.0, 10),
            np.linspace(101.0, 105.0, 10),
            np.linspace(104.0, 100.0, 10),
        )
    )
    bars = bars_from_closes(close, spread=0.5)
    out = sr.compute(bars)
    assert out["resistance"][-1] == bars.high[30]
    assert bars.high[30] < bars.high[10]


def test_a_close_above_every_swing_high_has_no_resistance() -> None:
    bars = bars_from_closes(np.linspace(50.0, 80.0, 60), spread=0.5)
    assert np.isnan(sr.compute(bars)["resistance"][20:]).all()


@pytest.mark.parametrize("n", [0, 1, 10])
def test_support_resistance_is_all_nan_before_a_pivot_can_be_confirmed(n: int) -> None:
    out = sr.compute(random_walk_bars(n))
    for key in sr.KEYS:
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()


def test_distances_are_nan_not_inf_for_bars_that_never_move() -> None:
    out = sr.compute(bars_from_closes(np.full(40, 10.0)))  # no range: ATR 0
    assert out["support"][-1] == out["resistance"][-1] == 10.0
    assert np.isnan(out["dist_support_atr"]).all()
    assert np.isnan(out["dist_resistance_atr"]).all()
