from __future__ import annotations

from swingflow_common.config import StrategyConfig
from swingflow_common.pipeline.entry_timing import IDEAL_ENTRY, time_entry

from .factories import healthy_snapshot

CONFIG = StrategyConfig()


def test_pullback_right_at_ema20_is_a_good_entry() -> None:
    result = time_entry(healthy_snapshot(), "trend_pullback", CONFIG)
    assert result.stage == "entry_timing"
    assert result.passed
    assert result.details["distance"] == 1.0


def test_chasing_far_above_ema20_is_a_poor_entry() -> None:
    chase = healthy_snapshot(close=107.0, high=107.2, stoch_k=92.0, stoch_cross_up=0.0)
    result = time_entry(chase, "trend_pullback", CONFIG)
    assert result.details["distance"] == 0.0  # 3.6 ATR from ema_20
    assert result.details["overextension"] < 0.1
    assert not result.passed
    assert "weak: distance" in result.reason


def test_breakout_entry_is_best_just_above_the_level() -> None:
    just_above = healthy_snapshot(close=104.5, ema_20=103.0)
    far_above = healthy_snapshot(close=108.5, ema_20=103.0)
    near = time_entry(just_above, "breakout_volume", CONFIG)
    far = time_entry(far_above, "breakout_volume", CONFIG)
    assert near.details["distance"] == 1.0
    assert far.details["distance"] < near.details["distance"]
    assert far.score < near.score


def test_bearish_candle_lowers_timing() -> None:
    bull = time_entry(healthy_snapshot(cdl_bull=0.8), "trend_pullback", CONFIG)
    bear = time_entry(healthy_snapshot(cdl_bear=0.8), "trend_pullback", CONFIG)
    assert bull.details["candle"] > 0.5 > bear.details["candle"]
    assert bull.score > bear.score


def test_big_opening_gap_lowers_timing() -> None:
    calm = time_entry(healthy_snapshot(gap_atr=0.1), "trend_pullback", CONFIG)
    gappy = time_entry(healthy_snapshot(gap_atr=2.5), "trend_pullback", CONFIG)
    assert gappy.details["gap"] == 0.0
    assert calm.details["gap"] == 1.0
    assert gappy.score < calm.score


def test_stochastic_turn_from_low_beats_overbought_without_turn() -> None:
    turn = time_entry(healthy_snapshot(stoch_k=25.0, stoch_cross_up=1.0), "trend_pullback", CONFIG)
    stale = time_entry(healthy_snapshot(stoch_k=90.0, stoch_cross_up=0.0), "trend_pullback", CONFIG)
    assert turn.details["stochastic"] > stale.details["stochastic"]


def test_missing_components_are_skipped() -> None:
    result = time_entry({"close": 100.0, "atr_14": 2.0, "ema_20": 99.9}, "trend_pullback", CONFIG)
    assert set(result.details) == {"distance", "overextension"}
    assert "missing: candle, stochastic, gap" in result.reason


def test_every_setup_has_an_ideal_entry() -> None:
    from swingflow_common.config import KNOWN_SETUPS

    assert set(IDEAL_ENTRY) == set(KNOWN_SETUPS)
