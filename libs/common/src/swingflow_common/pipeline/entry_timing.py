"""Stage 4, entry_timing: is this close a good price to enter the setup now?

Five components, each a score in [0, 1] from one bar's snapshot (distances in ATR):

- distance: how far the close is from the setup's ideal entry (IDEAL_ENTRY): at ema_20
  for a pullback or a MACD cross, just above the broken level for a breakout or squeeze,
  at the lower band for a mean reversion. Chasing far past it scores 0.
- candle: 0.5 + 0.5 * cdl_bull - 0.5 * cdl_bear (no pattern is neutral 0.5).
- stochastic: 0.5 * (1 if stoch_cross_up else 0.3) + 0.5 * (1 - ramp(stoch_k, 50, 95)).
- gap: 1 - ramp(|gap_atr|, 0.5, 2): a big opening gap means an unknown fill.
- overextension: 1 - ramp((close - ema_20) / ATR, 1.5, 3.5).

The score is their weighted mean (COMPONENT_WEIGHTS), unknown components skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import StageScore
from swingflow_common.pipeline.scoring import blend, clip01, describe, known, ramp

COMPONENT_WEIGHTS: dict[str, float] = {
    "distance": 0.30,
    "candle": 0.15,
    "stochastic": 0.20,
    "gap": 0.15,
    "overextension": 0.20,
}
STRONG, WEAK = 0.65, 0.35
Snap = Mapping[str, float | None]


def _near(tolerance: float, limit: float) -> Callable[[float], float]:
    """1 within `tolerance` ATR either side of the level, 0 beyond `limit`."""
    return lambda d: 1.0 - ramp(abs(d), tolerance, limit)


def _just_above(d: float) -> float:
    """1 from the level to 0.5 ATR above it; 0 at 0.5 ATR below or 2 ATR above."""
    return float(ramp(d, -0.5, 0.0) * (1.0 - ramp(d, 0.5, 2.0)))


def _at_or_below(d: float) -> float:
    """1 up to 0.5 ATR above the level (or anywhere below), 0 from 2.5 ATR above."""
    return float(1.0 - ramp(d, 0.5, 2.5))


# setup -> (the level its ideal entry sits at, score of the close's distance from it)
IDEAL_ENTRY: dict[str, tuple[str, Callable[[float], float]]] = {
    "trend_pullback": ("ema_20", _near(0.25, 1.5)),
    "macd_trend_cross": ("ema_20", _near(0.5, 2.0)),
    "breakout_volume": ("high_20_prior", _just_above),
    "bb_squeeze_breakout": ("bb_upper", _just_above),
    "rsi_mean_reversion": ("bb_lower", _at_or_below),
}
DEFAULT_ENTRY = ("ema_20", _near(0.5, 2.0))


def _get(s: Snap, key: str) -> float | None:
    v = s.get(key)
    return v if known(v) else None


def components(s: Snap, setup: str) -> dict[str, float | None]:
    """The five component scores of a snapshot for the given setup."""
    close, atr, ema20 = _get(s, "close"), _get(s, "atr_14"), _get(s, "ema_20")
    level_key, shape = IDEAL_ENTRY.get(setup, DEFAULT_ENTRY)
    level = _get(s, level_key)
    distance = overext = None
    if close is not None and atr is not None and atr > 0:
        if level is not None:
            distance = shape((close - level) / atr)
        if ema20 is not None:
            overext = 1.0 - ramp((close - ema20) / atr, 1.5, 3.5)
    bull, bear = _get(s, "cdl_bull"), _get(s, "cdl_bear")
    candle = None
    if bull is not None or bear is not None:
        candle = clip01(0.5 + 0.5 * (bull or 0.0) - 0.5 * (bear or 0.0))
    k, cross = _get(s, "stoch_k"), _get(s, "stoch_cross_up")
    stoch = None
    if k is not None:
        turn = 1.0 if (cross or 0.0) >= 0.5 else 0.3
        stoch = 0.5 * turn + 0.5 * (1.0 - ramp(k, 50.0, 95.0))
    gap_atr = _get(s, "gap_atr")
    return {
        "distance": distance,
        "candle": candle,
        "stochastic": stoch,
        "gap": None if gap_atr is None else 1.0 - ramp(abs(gap_atr), 0.5, 2.0),
        "overextension": overext,
    }


def time_entry(snapshot: Snap, setup: str, config: StrategyConfig) -> StageScore:
    """Score the entry-timing stage of `setup` on this bar's snapshot."""
    minimum = config.stage_minimums.entry_timing
    parts = components(snapshot, setup)
    total = blend(parts, COMPONENT_WEIGHTS)
    if total is None:
        return StageScore(
            stage="entry_timing",
            score=0.0,
            minimum=minimum,
            passed=False,
            reason="no entry-timing data (price, ATR and oscillators unknown)",
        )
    score = round(clip01(total), 4)
    passed = score >= minimum
    verdict = "passed" if passed else f"below minimum {minimum:.2f}"
    level_key = IDEAL_ENTRY.get(setup, DEFAULT_ENTRY)[0]
    return StageScore(
        stage="entry_timing",
        score=score,
        minimum=minimum,
        passed=passed,
        reason=f"{score:.2f} {verdict} (ideal entry at {level_key}); "
        f"{describe(parts, STRONG, WEAK)}",
        details={k: round(v, 4) for k, v in parts.items() if v is not None},
    )
