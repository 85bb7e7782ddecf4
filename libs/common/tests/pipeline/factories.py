"""Hand-built feature snapshots, feature arrays, candidates and stage scores.

`healthy_snapshot()` is one bar of a clean uptrend pulled back to its 20-day EMA, with
values a reader can check against each stage's formula; tests change only the keys their
scenario is about. `feature_arrays` turns a snapshot into arrays (the value repeated, with
an optional recent history per key) for the setups, which may look back a few bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np

from swingflow_common.analysis.base import FloatArray
from swingflow_common.messages import CandidateSignal, StageName, StageScore, signal_id

TS = datetime(2024, 3, 1, tzinfo=UTC)


def healthy_snapshot(**overrides: float | None) -> dict[str, float | None]:
    """A clean uptrend bar near its ema_20 (atr 2, close 100), every stage content."""
    snap: dict[str, float | None] = {
        "open": 99.6,
        "high": 100.4,
        "low": 99.0,
        "close": 100.0,
        "volume": 1_500_000.0,
        "sma_200": 88.0,
        "sma_50": 94.0,
        "ema_20": 99.8,
        "atr_14": 2.0,
        "rsi_14": 47.0,
        "adx_14": 28.0,
        "plus_di_14": 27.0,
        "minus_di_14": 14.0,
        "rvol_20": 1.4,
        "obv_slope_20": 0.2,
        "mfi_14": 58.0,
        "cmf_20": 0.08,
        "weekly_trend": 1.0,
        "rs_rank": 0.8,
        "stoch_k": 28.0,
        "stoch_d": 24.0,
        "stoch_cross_up": 1.0,
        "cdl_bull": 0.0,
        "cdl_bear": 0.0,
        "gap_atr": 0.1,
        "high_20_prior": 104.0,
        "bb_upper": 104.5,
        "bb_lower": 95.5,
        "bb_width_rank": 0.5,
        "macd": 0.3,
        "macd_cross_up": 0.0,
        "willr_14": -60.0,
        "dist_52w_high": -0.05,
    }
    snap.update(overrides)
    return snap


def feature_arrays(
    at_bar: Mapping[str, float | None],
    n: int = 30,
    history: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, FloatArray]:
    """Arrays of length `n` holding `at_bar`'s values (None -> NaN) on every bar; a key in
    `history` gets those values on its last bars instead (the last one is bar n - 1)."""
    out: dict[str, FloatArray] = {}
    for key, value in at_bar.items():
        out[key] = np.full(n, np.nan if value is None else float(value), dtype=np.float64)
    for key, values in (history or {}).items():
        arr = out.setdefault(key, np.full(n, np.nan, dtype=np.float64))
        arr[n - len(values) :] = np.asarray(values, dtype=np.float64)
    return out


def pullback_features(
    *,
    recent_high: float | None = 103.0,
    sma_50_before: float | None = 92.0,
    **overrides: float | None,
) -> dict[str, FloatArray]:
    """A trend pullback on the last bar: the 10 bars before topped at `recent_high` (1.5 ATR
    above the close), and sma_50 rose from `sma_50_before` over those 10 bars."""
    snap = healthy_snapshot(**overrides)
    sma_50 = snap["sma_50"] if snap["sma_50"] is not None else float("nan")
    history = {
        "high": [recent_high or 103.0] * 10 + [snap["high"] or 100.4],
        "sma_50": list(np.linspace(sma_50_before or 92.0, sma_50, 11)),
    }
    return feature_arrays(snap, history=history)


def stage(
    name: StageName, score: float, *, minimum: float = 0.0, neutral: bool = False
) -> StageScore:
    """A stage score whose `passed` agrees with its minimum."""
    return StageScore(
        stage=name,
        score=score,
        minimum=minimum,
        passed=neutral or score >= minimum,
        neutral=neutral,
        reason=f"{name} scored {score:.2f} in a test",
    )


def candidate(
    *,
    symbol: str = "AAPL",
    setup: str = "trend_pullback",
    base: float = 0.8,
    close: float = 100.0,
    atr: float = 2.0,
    features: Mapping[str, float | None] | None = None,
) -> CandidateSignal:
    """A candidate with a base score, on TS, carrying a (default healthy) snapshot."""
    return CandidateSignal(
        id=signal_id(symbol, TS, setup),
        symbol=symbol,
        ts=TS,
        setup=setup,
        close=close,
        atr=atr,
        base=stage("base_signal", base),
        features=dict(features if features is not None else healthy_snapshot()),
        ts_event=TS,
    )
