from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.config import KNOWN_SETUPS, StrategyConfig
from swingflow_common.pipeline.setups import (
    SETUPS,
    bb_squeeze_breakout,
    breakout_volume,
    detect_setups,
    macd_trend_cross,
    rsi_mean_reversion,
    trend_pullback,
)

from .factories import feature_arrays, healthy_snapshot, pullback_features

LAST = 29  # feature_arrays builds 30 bars


def test_every_known_setup_has_an_implementation() -> None:
    assert set(SETUPS) == set(KNOWN_SETUPS)
    for name, fn in SETUPS.items():
        assert callable(fn), name
        assert inspect.getdoc(fn), f"{name} documents its rule and strength formula"


# --- trend pullback ---------------------------------------------------------------------


def test_trend_pullback_found_in_uptrend_near_ema20() -> None:
    hit = trend_pullback(pullback_features(), LAST)
    assert hit is not None
    assert hit.setup == "trend_pullback"
    assert 0.5 < hit.strength <= 1.0
    assert "ema_20" in hit.reason


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("close", 87.0),  # below sma_200
        ("sma_50", 86.0),  # sma_50 under sma_200: no uptrend
        ("rsi_14", 62.0),  # not pulled back
        ("rsi_14", 35.0),  # broken down, not a pullback
        ("ema_20", 96.0),  # close 2 ATR above ema_20: not near it
        ("sma_50", 100.5),  # the pullback broke the 50-day average
    ],
)
def test_trend_pullback_rejects_broken_condition(key: str, value: float) -> None:
    overrides: dict[str, float | None] = {key: value}
    if key == "close":
        overrides |= {"open": value, "high": value + 0.2, "low": value - 0.2}
    assert trend_pullback(pullback_features(**overrides), LAST) is None


def test_trend_pullback_needs_a_rising_50_day_and_a_real_pullback() -> None:
    assert trend_pullback(pullback_features(sma_50_before=95.0), LAST) is None  # sma_50 fell
    assert trend_pullback(pullback_features(recent_high=101.5), LAST) is None  # 0.75 ATR dip


def test_trend_pullback_is_stronger_right_at_ema20() -> None:
    at_ema = trend_pullback(pullback_features(ema_20=100.0), LAST)
    away = trend_pullback(pullback_features(ema_20=98.4), LAST)  # 0.8 ATR below the close
    assert at_ema is not None
    assert away is not None
    assert at_ema.strength > away.strength


# --- breakout with volume ---------------------------------------------------------------


def breakout(**overrides: float | None) -> dict[str, np.ndarray]:
    snap = healthy_snapshot(
        close=105.0, high=105.3, low=103.2, high_20_prior=104.0, rvol_20=2.2, sma_50=100.0
    )
    snap.update(overrides)
    return feature_arrays(snap)


def test_breakout_found_on_heavy_volume_above_20_day_high() -> None:
    hit = breakout_volume(breakout(), LAST)
    assert hit is not None
    assert "volume" in hit.reason
    assert 0.0 <= hit.strength <= 1.0


def test_breakout_needs_volume_and_a_close_above_the_level() -> None:
    assert breakout_volume(breakout(rvol_20=1.2), LAST) is None
    assert breakout_volume(breakout(close=103.9, high=104.5), LAST) is None


def test_breakout_strength_rises_with_volume() -> None:
    light, heavy = breakout_volume(breakout(rvol_20=1.6), LAST), breakout_volume(breakout(), LAST)
    assert light is not None
    assert heavy is not None
    assert heavy.strength > light.strength


# --- MACD cross in trend ----------------------------------------------------------------


def macd_cross(adx_history: list[float], **overrides: float | None) -> dict[str, np.ndarray]:
    snap = healthy_snapshot(macd_cross_up=1.0, **overrides)
    return feature_arrays(snap, history={"adx_14": adx_history})


def test_macd_cross_found_with_rising_adx_above_sma200() -> None:
    hit = macd_trend_cross(macd_cross([20.0, 21.0, 23.0, 25.0]), LAST)
    assert hit is not None
    assert "adx_14" in hit.reason


def test_macd_cross_rejected_when_adx_falls_or_price_under_sma200() -> None:
    assert macd_trend_cross(macd_cross([30.0, 29.0, 28.0, 27.0]), LAST) is None
    assert macd_trend_cross(macd_cross([20.0, 21.0, 23.0, 25.0], sma_200=101.0), LAST) is None


def test_macd_cross_without_a_cross_is_no_setup() -> None:
    feats = macd_cross([20.0, 21.0, 23.0, 25.0])
    feats["macd_cross_up"][:] = 0.0
    assert macd_trend_cross(feats, LAST) is None


# --- Bollinger squeeze breakout ---------------------------------------------------------


def squeeze(ranks: list[float], prev_close: float = 103.0) -> dict[str, np.ndarray]:
    snap = healthy_snapshot(close=105.0, high=105.4, bb_upper=104.5, rvol_20=1.8, sma_50=100.0)
    return feature_arrays(
        snap, history={"bb_width_rank": [*ranks, 0.6], "close": [prev_close, 105.0]}
    )


def test_squeeze_breakout_found_after_tight_bands() -> None:
    hit = bb_squeeze_breakout(squeeze([0.3, 0.1, 0.05, 0.1, 0.2]), LAST)
    assert hit is not None
    assert "bandwidth rank 0.05" in hit.reason


def test_squeeze_breakout_needs_a_squeeze_and_a_fresh_break() -> None:
    assert bb_squeeze_breakout(squeeze([0.5, 0.4, 0.45, 0.6]), LAST) is None
    assert bb_squeeze_breakout(squeeze([0.1, 0.1], prev_close=104.9), LAST) is None


def test_tighter_squeeze_is_stronger() -> None:
    tight = bb_squeeze_breakout(squeeze([0.02]), LAST)
    loose = bb_squeeze_breakout(squeeze([0.19]), LAST)
    assert tight is not None
    assert loose is not None
    assert tight.strength > loose.strength


# --- RSI mean reversion -----------------------------------------------------------------


def test_rsi_oversold_above_sma200_is_a_mean_reversion() -> None:
    hit = rsi_mean_reversion(feature_arrays(healthy_snapshot(rsi_14=27.0)), LAST)
    assert hit is not None
    assert "rsi_14 27" in hit.reason


def test_rsi_oversold_below_sma200_is_no_setup() -> None:
    feats = feature_arrays(healthy_snapshot(rsi_14=27.0, sma_200=105.0))
    assert rsi_mean_reversion(feats, LAST) is None


def test_short_term_washout_counts_only_with_williams_r_at_the_low() -> None:
    washed = feature_arrays(healthy_snapshot(rsi_14=33.0, willr_14=-96.0))
    mild = feature_arrays(healthy_snapshot(rsi_14=33.0, willr_14=-50.0))
    assert rsi_mean_reversion(washed, LAST) is not None
    assert rsi_mean_reversion(mild, LAST) is None


def test_deeper_oversold_is_stronger() -> None:
    deep = rsi_mean_reversion(feature_arrays(healthy_snapshot(rsi_14=24.0)), LAST)
    shallow = rsi_mean_reversion(feature_arrays(healthy_snapshot(rsi_14=29.5)), LAST)
    assert deep is not None
    assert shallow is not None
    assert deep.strength > shallow.strength


# --- all setups -------------------------------------------------------------------------


def test_no_setup_fires_while_indicators_warm_up() -> None:
    snap = {
        k: (None if k not in {"open", "high", "low", "close", "volume"} else v)
        for k, v in healthy_snapshot(macd_cross_up=1.0).items()
    }
    feats = feature_arrays(snap)
    assert [fn(feats, LAST) for fn in SETUPS.values()] == [None] * len(SETUPS)


def test_detect_setups_runs_only_enabled_setups() -> None:
    feats = pullback_features()
    assert [h.setup for h in detect_setups(feats, LAST, StrategyConfig())] == ["trend_pullback"]
    only_breakouts = StrategyConfig(setups=("breakout_volume",))
    assert detect_setups(feats, LAST, only_breakouts) == []


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {k: finite for k in healthy_snapshot() if k not in {"close", "atr_14"}}
    ),
    close=st.floats(min_value=1.0, max_value=500.0),
    atr=st.floats(min_value=0.01, max_value=50.0),
    rank=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=12),
)
def test_any_hit_has_strength_in_unit_interval(
    data: dict[str, float], close: float, atr: float, rank: list[float]
) -> None:
    snap = {**data, "close": close, "atr_14": atr, "macd_cross_up": 1.0}
    feats = feature_arrays(snap, history={"bb_width_rank": rank})
    for fn in SETUPS.values():
        hit = fn(feats, LAST)
        if hit is not None:
            assert 0.0 <= hit.strength <= 1.0
            assert math.isfinite(hit.strength)
            assert all(0.0 <= v <= 1.0 for v in hit.details.values())
