"""Supertrend (10, 3) against a plain-Python reference and a hand-made flip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from factories import random_walk_bars

from swingflow_common.analysis import supertrend
from swingflow_common.analysis.base import OHLCV


def _reference(
    high: list[float], low: list[float], close: list[float], period: int = 10, mult: float = 3.0
) -> tuple[list[float], list[float]]:
    """Supertrend written the slow, obvious way (ATR: TA-Lib's Wilder ATR, from bar 1)."""
    n = len(close)
    line, direction = [math.nan] * n, [math.nan] * n
    atr = math.nan
    tr_sum = 0.0
    upper = lower = math.nan
    up = True
    for i in range(1, n):
        tr = max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
        if i < period:
            tr_sum += tr
            continue
        atr = (tr_sum + tr) / period if i == period else (atr * (period - 1) + tr) / period
        mid = (high[i] + low[i]) / 2
        basic_upper, basic_lower = mid + mult * atr, mid - mult * atr
        if i == period:
            upper, lower, up = basic_upper, basic_lower, True
        else:
            upper = basic_upper if basic_upper < upper or close[i - 1] > upper else upper
            lower = basic_lower if basic_lower > lower or close[i - 1] < lower else lower
            if up and close[i] < lower:
                up = False
            elif not up and close[i] > upper:
                up = True
        line[i] = lower if up else upper
        direction[i] = 1.0 if up else -1.0
    return line, direction


def _flat_then_drop() -> OHLCV:
    """Bars 0-29: high 101, low 99, close 100 (true range 2, so ATR 2); bar 30 drops."""
    n = 40
    high, low, close = np.full(n, 101.0), np.full(n, 99.0), np.full(n, 100.0)
    high[30], low[30], close[30] = 100.0, 92.0, 93.0
    high[31:], low[31:], close[31:] = 94.0, 92.0, 93.0
    ts = np.arange(n).astype("datetime64[D]").astype("datetime64[ns]")
    return OHLCV(ts, close.copy(), high, low, close, np.full(n, 1e6))


def test_supertrend_matches_plain_python_reference_on_real_bars(
    sp500: dict[str, OHLCV], megacaps: dict[str, OHLCV]
) -> None:
    flips = 0
    for symbol, bars in {**sp500, **megacaps}.items():
        line, direction = _reference(list(bars.high), list(bars.low), list(bars.close))
        out = supertrend.compute(bars)
        np.testing.assert_array_equal(out["supertrend_dir"], direction, err_msg=symbol)
        np.testing.assert_allclose(out["supertrend"], line, rtol=1e-9, err_msg=symbol)
        flips += int(np.sum(np.diff(out["supertrend_dir"][10:]) != 0))
    assert flips > 50  # the comparison covered many trend changes, not one long trend


def test_supertrend_flips_down_on_the_bar_that_closes_under_the_lower_band() -> None:
    out = supertrend.compute(_flat_then_drop())
    # Bars 10-29: ATR 2, hl2 100, so the lower band is 100 - 3 x 2 = 94 and the trend is up.
    assert (out["supertrend_dir"][10:30] == 1.0).all()
    np.testing.assert_allclose(out["supertrend"][10:30], 94.0)
    # Bar 30: true range 8, ATR (9 x 2 + 8) / 10 = 2.6; close 93 < 94, the kept lower band.
    # The line jumps to the upper band: basic 96 + 7.8 = 103.8, below the old 106.
    assert out["supertrend_dir"][30] == -1.0
    assert out["supertrend"][30] == pytest.approx(103.8)
    assert (out["supertrend_dir"][30:] == -1.0).all()
    # In the downtrend the upper band only ratchets down.
    assert (np.diff(out["supertrend"][30:]) <= 1e-12).all()


def test_supertrend_flips_back_up_when_the_close_clears_the_upper_band() -> None:
    bars = _flat_then_drop()
    close, high = bars.close.copy(), bars.high.copy()
    close[35], high[35] = 110.0, 110.0  # far above the ~100 upper band
    out = supertrend.compute(OHLCV(bars.ts, bars.open, high, bars.low, close, bars.volume))
    line, direction = _reference(list(high), list(bars.low), list(close))
    assert out["supertrend_dir"][34] == -1.0
    assert out["supertrend_dir"][35] == 1.0
    np.testing.assert_array_equal(out["supertrend_dir"], direction)
    np.testing.assert_allclose(out["supertrend"], line, rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 10])
def test_supertrend_is_all_nan_until_the_atr_exists(n: int) -> None:
    out = supertrend.compute(random_walk_bars(n))
    for key in supertrend.KEYS:
        assert out[key].shape == (n,)
        assert np.isnan(out[key]).all()
