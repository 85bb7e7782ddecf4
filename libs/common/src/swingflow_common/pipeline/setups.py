"""Stage 1, base_signal: the long swing setups, each a rule on one bar's features.

A setup is a function `(features, i) -> SetupHit | None`: None when its conditions do not
hold at bar `i` (or an input is still warming up), otherwise a strength in [0, 1] that
grades how clean the setup is and a reason that says what was seen. Each strength is a
weighted mean of component scores (documented per setup), so a setup that only just
qualifies scores low and a textbook one scores high. Values at `i` only use bars `0..i`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from swingflow_common.config import StrategyConfig
from swingflow_common.pipeline.scoring import blend, clip01, peak, ramp

FeatureArrays = Mapping[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class SetupHit:
    """A setup found on a bar: its name, strength in [0, 1], reason and component scores."""

    setup: str
    strength: float
    reason: str
    details: dict[str, float] = field(default_factory=dict)


Setup = Callable[[FeatureArrays, int], SetupHit | None]


def _at(f: FeatureArrays, key: str, i: int) -> float:
    """The value of `key` at bar `i`, NaN when the key or the bar is absent."""
    arr = f.get(key)
    if arr is None or i < 0 or i >= arr.shape[0]:
        return math.nan
    return float(arr[i])


def _close_location(f: FeatureArrays, i: int) -> float:
    """Where the close sits in the bar's range: 1 at the high, 0 at the low."""
    high, low, close = _at(f, "high", i), _at(f, "low", i), _at(f, "close", i)
    return clip01((close - low) / (high - low)) if high > low else 1.0


def _opt(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _gain(a: float, b: float) -> float:
    """a / b - 1, NaN unless b is a positive number (an average of prices always is)."""
    return a / b - 1.0 if b > 0 else math.nan


def _hit(
    name: str, parts: dict[str, float | None], weights: dict[str, float], why: str
) -> SetupHit:
    strength = blend(parts, weights) or 0.0
    details = {k: round(v, 4) for k, v in parts.items() if v is not None}
    return SetupHit(name, round(clip01(strength), 4), f"{why} (strength {strength:.2f})", details)


PULLBACK_LOOKBACK = 10


def trend_pullback(f: FeatureArrays, i: int) -> SetupHit | None:
    """A rising uptrend pulled back to its 20-day EMA.

    Conditions: close > sma_50 > sma_200 (the pullback holds the 50-day), sma_50 higher
    than 10 bars ago, the close within 1 ATR of ema_20, rsi_14 between 40 and 55 (cooled,
    not broken), and at least 1 ATR below the highest high of the 10 bars before (a real
    pullback, not a flat drift along the average).

    Strength = 0.30 trend (sma_50 0..8% above sma_200) + 0.30 proximity (1 at ema_20, 0 at
    1 ATR away) + 0.20 rsi (1 at 47.5, 0.4 at 40 or 55) + 0.20 depth (1 -> 3 ATR below the
    recent high).
    """
    close, sma200 = _at(f, "close", i), _at(f, "sma_200", i)
    if not close > sma200 > 0:
        return None
    sma50, ema20 = _at(f, "sma_50", i), _at(f, "ema_20", i)
    rsi, atr = _at(f, "rsi_14", i), _at(f, "atr_14", i)
    if not (close > sma50 > sma200 and 40.0 <= rsi <= 55.0 and atr > 0):
        return None
    if not sma50 > _at(f, "sma_50", i - PULLBACK_LOOKBACK):
        return None
    dist = (close - ema20) / atr
    if not abs(dist) <= 1.0 or "high" not in f or i < 1:
        return None
    recent_high = float(np.nanmax(f["high"][max(0, i - PULLBACK_LOOKBACK) : i]))
    depth = (recent_high - close) / atr
    if not depth >= 1.0:
        return None
    parts: dict[str, float | None] = {
        "trend": ramp(_gain(sma50, sma200), 0.0, 0.08),
        "proximity": peak(dist, 0.0, 1.0),
        "rsi": peak(rsi, 47.5, 12.5),
        "depth": ramp(depth, 1.0, 3.0),
    }
    weights = {"trend": 0.30, "proximity": 0.30, "rsi": 0.20, "depth": 0.20}
    why = (
        f"trend pullback: {depth:.1f} ATR off the 10-bar high to {dist:+.2f} ATR from "
        f"ema_20, rsi_14 {rsi:.0f}, sma_50 {100 * _gain(sma50, sma200):.1f}% above sma_200"
    )
    return _hit("trend_pullback", parts, weights, why)


def breakout_volume(f: FeatureArrays, i: int) -> SetupHit | None:
    """Close above the highest high of the 20 bars before, on rvol_20 >= 1.5.

    Strength = 0.35 volume (rvol 1 -> 0, 3 -> 1) + 0.25 close location in the bar's range
    + 0.20 clearance (0..0.25 ATR above the level ramps up, 1.5..3 ATR is chasing and ramps
    down) + 0.20 trend (close -2%..+5% against sma_50).
    """
    close, level = _at(f, "close", i), _at(f, "high_20_prior", i)
    rvol, atr = _at(f, "rvol_20", i), _at(f, "atr_14", i)
    if not (close > level and rvol >= 1.5 and atr > 0):
        return None
    clear = (close - level) / atr
    sma50 = _at(f, "sma_50", i)
    parts = {
        "volume": ramp(rvol, 1.0, 3.0),
        "close_location": _close_location(f, i),
        "clearance": ramp(clear, 0.0, 0.25) * (1.0 - ramp(clear, 1.5, 3.0)),
        "trend": _opt(ramp(_gain(close, sma50), -0.02, 0.05)),
    }
    weights = {"volume": 0.35, "close_location": 0.25, "clearance": 0.20, "trend": 0.20}
    why = f"breakout: close {clear:.2f} ATR above the 20-bar high on {rvol:.1f}x volume"
    return _hit("breakout_volume", parts, weights, why)


def macd_trend_cross(f: FeatureArrays, i: int) -> SetupHit | None:
    """MACD crossed above its signal line this bar, close > sma_200, adx_14 up over 3 bars.

    Strength = 0.30 adx level (15 -> 0, 30 -> 1) + 0.20 adx rise (0..4 points) + 0.25 trend
    (close 0..10% above sma_200) + 0.25 freshness (1 when MACD crosses at the zero line,
    0 when 1.5 ATR away from it: late crosses are weaker).
    """
    if not _at(f, "macd_cross_up", i) >= 0.5:
        return None
    close, sma200 = _at(f, "close", i), _at(f, "sma_200", i)
    adx, adx_before = _at(f, "adx_14", i), _at(f, "adx_14", i - 3)
    atr, macd = _at(f, "atr_14", i), _at(f, "macd", i)
    if not (close > sma200 > 0 and adx > adx_before and atr > 0 and math.isfinite(macd)):
        return None
    parts: dict[str, float | None] = {
        "adx": ramp(adx, 15.0, 30.0),
        "adx_rise": ramp(adx - adx_before, 0.0, 4.0),
        "trend": ramp(_gain(close, sma200), 0.0, 0.10),
        "freshness": peak(macd / atr, 0.0, 1.5),
    }
    weights = {"adx": 0.30, "adx_rise": 0.20, "trend": 0.25, "freshness": 0.25}
    why = (
        f"MACD cross up {macd / atr:+.2f} ATR from zero, adx_14 {adx:.0f} rising "
        f"({adx - adx_before:+.1f}), close {100 * _gain(close, sma200):.1f}% above sma_200"
    )
    return _hit("macd_trend_cross", parts, weights, why)


SQUEEZE_LOOKBACK = 10
SQUEEZE_RANK = 0.20


def bb_squeeze_breakout(f: FeatureArrays, i: int) -> SetupHit | None:
    """After a squeeze (bb_width_rank <= 0.20 within the 10 bars before), the close breaks
    above the upper band for the first time (the bar before closed at or below it).

    Strength = 0.35 squeeze depth (rank 0.25 -> 0, 0 -> 1) + 0.25 volume (rvol 1 -> 0,
    2.5 -> 1) + 0.20 close location + 0.20 trend (close -2%..+5% against sma_50).
    """
    close, upper = _at(f, "close", i), _at(f, "bb_upper", i)
    if not close > upper or i < 1:
        return None
    if not _at(f, "close", i - 1) <= _at(f, "bb_upper", i - 1):
        return None
    ranks = f["bb_width_rank"][max(0, i - SQUEEZE_LOOKBACK) : i] if "bb_width_rank" in f else None
    if ranks is None or not np.isfinite(ranks).any():
        return None
    tightest = float(np.nanmin(ranks))
    if tightest > SQUEEZE_RANK:
        return None
    sma50, rvol = _at(f, "sma_50", i), _at(f, "rvol_20", i)
    parts = {
        "squeeze": ramp(tightest, 0.25, 0.0),
        "volume": _opt(ramp(rvol, 1.0, 2.5)),
        "close_location": _close_location(f, i),
        "trend": _opt(ramp(_gain(close, sma50), -0.02, 0.05)),
    }
    weights = {"squeeze": 0.35, "volume": 0.25, "close_location": 0.20, "trend": 0.20}
    why = (
        f"squeeze breakout: bandwidth rank {tightest:.2f} within {SQUEEZE_LOOKBACK} bars, "
        "first close above bb_upper"
    )
    return _hit("bb_squeeze_breakout", parts, weights, why)


def rsi_mean_reversion(f: FeatureArrays, i: int) -> SetupHit | None:
    """Oversold above the 200-day average: close > sma_200 and either rsi_14 < 30, or a
    short-term washout (rsi_14 < 35 with willr_14 <= -90, the close in the bottom tenth of
    its 14-day range: the role RSI(2) < 10 plays in Connors-style rules).

    Strength = 0.35 depth (rsi 40 -> 0, 25 -> 1) + 0.20 washout (willr -80 -> 0, -100 -> 1)
    + 0.25 trend (close 0..10% above sma_200) + 0.20 structure (sma_50 above sma_200).
    """
    close, sma200 = _at(f, "close", i), _at(f, "sma_200", i)
    if not close > sma200 > 0:
        return None
    rsi, willr = _at(f, "rsi_14", i), _at(f, "willr_14", i)
    if not (rsi < 30.0 or (rsi < 35.0 and willr <= -90.0)):
        return None
    sma50 = _at(f, "sma_50", i)
    parts = {
        "depth": ramp(rsi, 40.0, 25.0),
        "washout": _opt(ramp(willr, -80.0, -100.0)),
        "trend": ramp(_gain(close, sma200), 0.0, 0.10),
        "structure": (1.0 if sma50 > sma200 else 0.0) if math.isfinite(sma50) else None,
    }
    weights = {"depth": 0.35, "washout": 0.20, "trend": 0.25, "structure": 0.20}
    why = f"oversold in an uptrend: rsi_14 {rsi:.0f}, willr_14 {willr:.0f}, close above sma_200"
    return _hit("rsi_mean_reversion", parts, weights, why)


SETUPS: dict[str, Setup] = {
    "trend_pullback": trend_pullback,
    "breakout_volume": breakout_volume,
    "macd_trend_cross": macd_trend_cross,
    "bb_squeeze_breakout": bb_squeeze_breakout,
    "rsi_mean_reversion": rsi_mean_reversion,
}


def detect_setups(features: FeatureArrays, i: int, config: StrategyConfig) -> list[SetupHit]:
    """The enabled setups (config.setups, in that order) that hold at bar `i`."""
    hits = []
    for name in config.setups:
        hit = SETUPS[name](features, i)
        if hit is not None:
            hits.append(hit)
    return hits
