"""Stage 2, confirmation: independent evidence that the setup's trend is real.

Four components, each a score in [0, 1] from one bar's snapshot:

- trend: ADX strength gated by direction, `dir * (0.4 + 0.6 * ramp(adx_14, 15, 35))`
  with `dir = ramp((+DI - -DI) / (+DI + -DI), -0.2, 0.4)`: a strong trend down scores 0.
- volume: mean of rvol_20, obv_slope_20 (-0.1 -> 0, 0.3 -> 1), mfi_14 (35 -> 0, 65 -> 1)
  and cmf_20 (-0.1 -> 0, 0.15 -> 1), whichever are known. rvol reads with the bar's
  direction: heavy volume confirms an up bar (0.8 -> 0, 2 -> 1) but on a down bar it is
  distribution, and a pullback on light volume is the healthy one (2 -> 0, 0.8 -> 1).
- weekly: the higher-timeframe trend, weekly_trend +1 -> 1, 0 -> 0.5, -1 -> 0.
- relative_strength: rs_rank (percentile in the universe) 0.2 -> 0, 0.9 -> 1.

The score is their weighted mean (COMPONENT_WEIGHTS); an unknown component (e.g. no
rs_rank outside a universe scan) is skipped and the other weights renormalized.

Array-first: `component_rows`/`score_rows` score many rows at once (a backtest's whole
history); `confirm`, the signals service's per-candidate call, is the same functions on
the snapshot's one row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import StageScore
from swingflow_common.pipeline.scoring import (
    RowGetter,
    Rows,
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
    "trend": 0.30,
    "volume": 0.30,
    "weekly": 0.20,
    "relative_strength": 0.20,
}
STRONG, WEAK = 0.65, 0.35
Snap = Mapping[str, float | None]


def trend_rows(get: RowGetter) -> Rows:
    """ADX level times DI direction; NaN while ADX is unknown."""
    adx, pdi, mdi = get("adx_14"), get("plus_di_14"), get("minus_di_14")
    total = pdi + mdi
    has_di = finite(pdi) & finite(mdi) & (total > 0)
    direction = where(has_di, ramp_rows((pdi - mdi) / where(has_di, total, 1.0), -0.2, 0.4), 0.5)
    return direction * (0.4 + 0.6 * ramp_rows(adx, 15.0, 35.0))


def rvol_rows(get: RowGetter) -> Rows:
    """Relative volume read with the bar's direction (see the module docstring)."""
    rvol, open_, close = get("rvol_20"), get("open"), get("close")
    down = close < open_  # False where either is unknown
    return where(down, ramp_rows(rvol, 2.0, 0.8), ramp_rows(rvol, 0.8, 2.0))


def volume_rows(get: RowGetter) -> dict[str, Rows]:
    """The four volume sub-scores (NaN where the indicator is unknown)."""
    return {
        "rvol": rvol_rows(get),
        "obv": ramp_rows(get("obv_slope_20"), -0.1, 0.3),
        "mfi": ramp_rows(get("mfi_14"), 35.0, 65.0),
        "cmf": ramp_rows(get("cmf_20"), -0.10, 0.15),
    }


def component_rows(get: RowGetter) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """The four component scores of the rows, and the volume sub-scores."""
    vol = volume_rows(get)
    parts = {
        "trend": trend_rows(get),
        "volume": blend_rows(vol, dict.fromkeys(vol, 1.0)),
        "weekly": clip01_rows((get("weekly_trend") + 1.0) / 2.0),
        "relative_strength": ramp_rows(get("rs_rank"), 0.2, 0.9),
    }
    return parts, vol


def score_rows(get: RowGetter) -> list[float]:
    """The confirmation score of every row (what `confirm` gives as `score`)."""
    parts, _ = component_rows(get)
    total = blend_rows(parts, COMPONENT_WEIGHTS)
    score: list[float] = round_rows(np.where(np.isfinite(total), clip01_rows(total), 0.0)).tolist()
    return score


def _row(values: dict[str, Rows]) -> dict[str, float | None]:
    return {k: (x if math.isfinite(x := float(v)) else None) for k, v in values.items()}


def components(s: Snap) -> dict[str, float | None]:
    """The four component scores of a snapshot (None: unknown)."""
    return _row(component_rows(snapshot_rows(s))[0])


def confirm(snapshot: Snap, config: StrategyConfig) -> StageScore:
    """Score the confirmation stage; `details` holds every component and volume sub-score."""
    minimum = config.stage_minimums.confirmation
    rows, vol = component_rows(snapshot_rows(snapshot))
    parts, total = _row(rows), _row({"total": blend_rows(rows, COMPONENT_WEIGHTS)})["total"]
    details = {k: round(v, 4) for k, v in parts.items() if v is not None}
    details |= {f"volume_{k}": round(v, 4) for k, v in _row(vol).items() if v is not None}
    if total is None:
        return StageScore(
            stage="confirmation",
            score=0.0,
            minimum=minimum,
            passed=False,
            reason="no confirmation data (trend, volume, weekly and rs all unknown)",
        )
    score = round(clip01(total), 4)
    passed = score >= minimum
    verdict = "passed" if passed else f"below minimum {minimum:.2f}"
    reason = f"{score:.2f} {verdict}; {describe(parts, STRONG, WEAK)}"
    return StageScore(
        stage="confirmation",
        score=score,
        minimum=minimum,
        passed=passed,
        reason=reason,
        details=details,
    )
