"""The model's inputs: what the pipeline knew about a candidate at its signal's bar.

A candidate carries the snapshot of every analysis value at its bar (`features`, built
from bars up to that bar only), so everything here is a pure function of the candidate
and the strategy config; the ml service computes exactly what training computed.

- module values from the snapshot; those in price units are made scale-free so one
  model serves every symbol and decade: a price level becomes its distance from the
  close (`sma_200` -> `sma_200/close - 1`), a price difference a fraction of the close
  (`atr_14`, `macd*`). Absolute sizes (`close`, `volume`, `obv`) are left out.
- the stage scores: base (the setup's strength), confirmation and entry timing, from the
  same `confirm` and `time_entry` the signals service calls;
- the setup, one-hot;
- `regime_trend`: 1 in an uptrend (close and 50-day average above the 200-day), 0.5 when
  one of the two holds, 0 in a downtrend (the volatility regime is the snapshot's
  `vol_regime`).

A value the pipeline did not know (an indicator warming up) is NaN, which XGBoost treats
as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from swingflow_common.config import KNOWN_SETUPS, StrategyConfig
from swingflow_common.messages import CandidateSignal
from swingflow_common.pipeline.confirmation import confirm
from swingflow_common.pipeline.entry_timing import time_entry

LEVEL_KEYS: frozenset[str] = frozenset({
    "open", "high", "low", "bb_lower", "bb_middle", "bb_upper", "dc_lower", "dc_middle",
    "dc_upper", "ema_10", "ema_20", "ema_50", "high_20_prior", "high_52w", "ichimoku_kijun",
    "ichimoku_span_a", "ichimoku_span_b", "ichimoku_tenkan", "kc_lower", "kc_middle",
    "kc_upper", "psar", "resistance", "support", "sma_20", "sma_50", "sma_200", "supertrend",
    "vwap_14",
})  # fmt: skip
SCALE_KEYS: frozenset[str] = frozenset({"atr_14", "macd", "macd_hist", "macd_signal"})
DROPPED_KEYS: frozenset[str] = frozenset({"close", "volume", "obv"})
STAGE_FEATURES: tuple[str, ...] = ("stage_base", "stage_confirmation", "stage_entry_timing")
SETUP_FEATURES: tuple[str, ...] = tuple(f"setup_{s}" for s in KNOWN_SETUPS)
REGIME_FEATURES: tuple[str, ...] = ("regime_trend",)

FloatMatrix = npt.NDArray[np.float64]


def _num(value: float | None) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan


def _renamed(key: str) -> str:
    if key in LEVEL_KEYS:
        return f"{key}_vs_close"
    if key in SCALE_KEYS:
        return f"{key}_pct_close"
    return key


def module_features(snapshot: Mapping[str, float | None]) -> dict[str, float]:
    """The snapshot's values, price units made scale-free, absolute sizes left out."""
    close = _num(snapshot.get("close"))
    out: dict[str, float] = {}
    for key, raw in snapshot.items():
        if key in DROPPED_KEYS:
            continue
        value = _num(raw)
        if key in LEVEL_KEYS:
            value = value / close - 1.0 if close > 0 else math.nan
        elif key in SCALE_KEYS:
            value = value / close if close > 0 else math.nan
        out[_renamed(key)] = value
    return out


def regime_trend(snapshot: Mapping[str, float | None]) -> float:
    """1 uptrend, 0.5 mixed, 0 downtrend, by close and sma_50 against sma_200; NaN unknown."""
    close, fast, slow = (_num(snapshot.get(k)) for k in ("close", "sma_50", "sma_200"))
    if not (math.isfinite(close) and math.isfinite(fast) and math.isfinite(slow)):
        return math.nan
    return ((close > slow) + (fast > slow)) / 2.0


def candidate_features(candidate: CandidateSignal, config: StrategyConfig) -> dict[str, float]:
    """Every feature of one candidate, by name (NaN where the pipeline knew nothing)."""
    snap = candidate.features
    out = module_features(snap)
    out["stage_base"] = candidate.base.score
    out["stage_confirmation"] = confirm(snap, config).score
    out["stage_entry_timing"] = time_entry(snap, candidate.setup, config).score
    for setup, name in zip(KNOWN_SETUPS, SETUP_FEATURES, strict=True):
        out[name] = 1.0 if candidate.setup == setup else 0.0
    out["regime_trend"] = regime_trend(snap)
    return out


def feature_names(rows: Iterable[Mapping[str, float]]) -> tuple[str, ...]:
    """The model's columns: every name seen in `rows`, sorted (a fixed, documented order)."""
    names: set[str] = set(STAGE_FEATURES) | set(SETUP_FEATURES) | set(REGIME_FEATURES)
    for row in rows:
        names.update(row)
    return tuple(sorted(names))


def to_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> FloatMatrix:
    """Rows of named features as a (rows, names) array; a name a row lacks is NaN."""
    matrix = np.full((len(rows), len(names)), np.nan)
    column = {name: j for j, name in enumerate(names)}
    for i, row in enumerate(rows):
        for name, value in row.items():
            j = column.get(name)
            if j is not None:
                matrix[i, j] = value
    return matrix


def feature_matrix(
    candidates: Sequence[CandidateSignal], names: Sequence[str], config: StrategyConfig
) -> FloatMatrix:
    """The (candidates, names) feature array the model scores."""
    return to_matrix([candidate_features(c, config) for c in candidates], names)
