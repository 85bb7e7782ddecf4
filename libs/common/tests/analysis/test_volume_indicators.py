"""OBV and MFI against textbook references, on real bars and hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from factories import bars_from_closes

from swingflow_common.analysis import mfi, obv
from swingflow_common.analysis.base import OHLCV

SYMBOLS = ("AAPL", "MSFT", "XOM", "GE")


def textbook_obv(bars: OHLCV) -> np.ndarray:
    """Running total of volume signed by the close's direction, 0 on bar 0."""
    direction = np.sign(np.diff(bars.close))
    return np.concatenate(([0.0], np.cumsum(direction * bars.volume[1:])))


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_obv_matches_running_signed_volume_on_real_bars(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    bars = sp500[symbol]
    out = obv.compute(bars)
    # TA-Lib starts the total at bar 0's volume; only the changes carry meaning
    np.testing.assert_allclose(out["obv"] - out["obv"][0], textbook_obv(bars), rtol=1e-12)
    windows = np.lib.stride_tricks.sliding_window_view(out["obv"], 20)
    slopes = np.polyfit(np.arange(20.0), windows.T, 1)[0]
    mean_volume = pd.Series(bars.volume).rolling(20).mean().to_numpy()[19:]
    np.testing.assert_allclose(out["obv_slope_20"][19:], slopes / mean_volume, rtol=1e-6)
    assert np.isnan(out["obv_slope_20"][:19]).all()


def test_obv_slope_is_plus_one_when_every_bar_is_an_up_day() -> None:
    bars = bars_from_closes(np.linspace(10, 20, 40), volume=5_000.0)
    out = obv.compute(bars)
    np.testing.assert_allclose(np.diff(out["obv"]), 5_000.0)
    np.testing.assert_allclose(out["obv_slope_20"][19:], 1.0, rtol=1e-12)
    down = obv.compute(bars_from_closes(np.linspace(20, 10, 40), volume=5_000.0))
    np.testing.assert_allclose(down["obv_slope_20"][20:], -1.0, rtol=1e-12)


def test_obv_slope_is_zero_when_nothing_traded() -> None:
    out = obv.compute(bars_from_closes(np.linspace(10, 20, 40), volume=0.0))
    assert (out["obv_slope_20"][19:] == 0.0).all()


def textbook_mfi(bars: OHLCV, period: int = 14) -> np.ndarray:
    tp = pd.Series((bars.high + bars.low + bars.close) / 3)
    flow = tp * bars.volume
    # Prices have at most 4 decimals, so a real change of tp is >= 1e-4 / 3; smaller ones
    # are two equal sums rounded differently (MSFT 2009-11-24: 89.65 / 3 both days).
    change = tp.diff().where(tp.diff().abs() > 1e-9, 0.0)
    positive = flow.where(change > 0, 0.0).rolling(period).sum()
    negative = flow.where(change < 0, 0.0).rolling(period).sum()
    out: np.ndarray = (100 * positive / (positive + negative)).to_numpy(copy=True)
    out[:period] = np.nan  # bar 0 has no previous typical price
    return out


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_mfi_matches_textbook_on_real_bars(sp500: dict[str, OHLCV], symbol: str) -> None:
    bars = sp500[symbol]
    out = mfi.compute(bars)["mfi_14"]
    np.testing.assert_allclose(out, textbook_mfi(bars), rtol=1e-9)
    assert np.isnan(out[:14]).all()
    assert not np.isnan(out[14:]).any()


def test_mfi_is_100_on_a_steady_rise_0_on_a_fall_and_neutral_without_flow() -> None:
    rising = np.linspace(10, 20, 40)
    np.testing.assert_allclose(mfi.compute(bars_from_closes(rising))["mfi_14"][14:], 100.0)
    falling = rising[::-1].copy()
    np.testing.assert_allclose(mfi.compute(bars_from_closes(falling))["mfi_14"][14:], 0.0)
    flat = bars_from_closes(np.full(40, 15.0))
    assert talib.MFI(flat.high, flat.low, flat.close, flat.volume)[-1] == 0.0  # TA-Lib alone
    assert (mfi.compute(flat)["mfi_14"][14:] == 50.0).all()
    idle = bars_from_closes(rising, volume=0.0)
    assert (mfi.compute(idle)["mfi_14"][14:] == 50.0).all()


def test_mfi_turns_from_neutral_once_money_moves_again() -> None:
    closes = np.concatenate((np.full(30, 15.0), np.linspace(15.5, 20, 10)))
    out = mfi.compute(bars_from_closes(closes))["mfi_14"]
    assert (out[14:30] == 50.0).all()
    np.testing.assert_allclose(out[30:], 100.0)  # only up-flow in any window since
