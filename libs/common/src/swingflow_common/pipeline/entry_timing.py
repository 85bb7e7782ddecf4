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
Array-first: `component_rows`/`score_rows` score many rows of one setup at once (a
backtest's whole history); `time_entry`, the per-candidate call, is the same functions on
the snapshot's one row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import StageScore
from swingflow_common.pipeline.scoring import (
    RowGetter,
    Rows,
    blend,
    blend_rows,
    clip01,
    clip01_rows,
    describe,
    finite,
    ramp_rows,
    round_rows,
    snapshot_rows,
    where,
)

COMPONENT_WEIGHTS: dict[str, float] = {
    "distance": 0.30,
    "candle": 0.15,
    "stochastic": 0.20,
    "gap": 0.15,
    "overextension": 0.20,
}
STRONG, WEAK = 0.65, 0.35
Snap = Mapping[str, float | None]


def _near(tolerance: float, limit: float) -> Callable[[Rows], Rows]:
    """1 within `tolerance` ATR either side of the level, 0 beyond `limit`."""
    return lambda d: 1.0 - ramp_rows(abs(d), tolerance, limit)


def _just_above(d: Rows) -> Rows:
    """1 from the level to 0.5 ATR above it; 0 at 0.5 ATR below or 2 ATR above."""
    return ramp_rows(d, -0.5, 0.0) * (1.0 - ramp_rows(d, 0.5, 2.0))


def _at_or_below(d: Rows) -> Rows:
    """1 up to 0.5 ATR above the level (or anywhere below), 0 from 2.5 ATR above."""
    return 1.0 - ramp_rows(d, 0.5, 2.5)


# setup -> (the level its ideal entry sits at, score of the close's distance from it)
IDEAL_ENTRY: dict[str, tuple[str, Callable[[Rows], Rows]]] = {
    "trend_pullback": ("ema_20", _near(0.25, 1.5)),
    "macd_trend_cross": ("ema_20", _near(0.5, 2.0)),
    "breakout_volume": ("high_20_prior", _just_above),
    "bb_squeeze_breakout": ("bb_upper", _just_above),
    "rsi_mean_reversion": ("bb_lower", _at_or_below),
}
DEFAULT_ENTRY = ("ema_20", _near(0.5, 2.0))


def component_rows(get: RowGetter, setup: str) -> dict[str, Rows]:
    """The five component scores of the rows (all of one setup); NaN: unknown."""
    close, atr, ema20 = get("close"), get("atr_14"), get("ema_20")
    level_key, shape = IDEAL_ENTRY.get(setup, DEFAULT_ENTRY)
    level = get(level_key)
    priced = finite(close) & finite(atr) & (atr > 0)
    safe_atr = where(priced, atr, 1.0)
    distance = where(priced & finite(level), shape((close - level) / safe_atr), math.nan)
    overext = where(
        priced & finite(ema20), 1.0 - ramp_rows((close - ema20) / safe_atr, 1.5, 3.5), math.nan
    )
    bull, bear = get("cdl_bull"), get("cdl_bear")
    has_candle = finite(bull) | finite(bear)
    candle = where(
        has_candle,
        clip01_rows(
            0.5 + 0.5 * where(finite(bull), bull, 0.0) - 0.5 * where(finite(bear), bear, 0.0)
        ),
        math.nan,
    )
    k, cross = get("stoch_k"), get("stoch_cross_up")
    turn = where(where(finite(cross), cross, 0.0) >= 0.5, 1.0, 0.3)
    stoch = 0.5 * turn + 0.5 * (1.0 - ramp_rows(k, 50.0, 95.0))
    return {
        "distance": distance,
        "candle": candle,
        "stochastic": stoch,
        "gap": 1.0 - ramp_rows(abs(get("gap_atr")), 0.5, 2.0),
        "overextension": overext,
    }


def score_rows(get: RowGetter, setup: str) -> list[float]:
    """The entry-timing score of every row (what `time_entry` gives as `score`)."""
    total = blend_rows(component_rows(get, setup), COMPONENT_WEIGHTS)
    score: list[float] = round_rows(np.where(np.isfinite(total), clip01_rows(total), 0.0)).tolist()
    return score


def components(s: Snap, setup: str) -> dict[str, float | None]:
    """The five component scores of a snapshot for the given setup (None: unknown)."""
    rows = component_rows(snapshot_rows(s), setup)
    return {k: (x if math.isfinite(x := float(v)) else None) for k, v in rows.items()}


def time_entry(snapshot: Snap, setup: str, config: StrategyConfig) -> StageScore:
    """Score the entry-timing stage of `setup` on this bar's snapshot."""
    minimum = config.stage_minimums.entry_timing
    parts = components(snapshot, setup)
    total = blend(parts, COMPONENT_WEIGHTS)  # the same floats as `score_rows`
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
