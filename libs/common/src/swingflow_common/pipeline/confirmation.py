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
"""

from __future__ import annotations

from collections.abc import Mapping

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import StageScore
from swingflow_common.pipeline.scoring import blend, clip01, describe, known, ramp

COMPONENT_WEIGHTS: dict[str, float] = {
    "trend": 0.30,
    "volume": 0.30,
    "weekly": 0.20,
    "relative_strength": 0.20,
}
STRONG, WEAK = 0.65, 0.35
Snap = Mapping[str, float | None]


def _get(s: Snap, key: str) -> float | None:
    v = s.get(key)
    return v if known(v) else None


def trend_score(s: Snap) -> float | None:
    """ADX level times DI direction; None while ADX is unknown."""
    adx, pdi, mdi = _get(s, "adx_14"), _get(s, "plus_di_14"), _get(s, "minus_di_14")
    if adx is None:
        return None
    direction = 0.5
    if pdi is not None and mdi is not None and pdi + mdi > 0:
        direction = ramp((pdi - mdi) / (pdi + mdi), -0.2, 0.4)
    return float(direction * (0.4 + 0.6 * ramp(adx, 15.0, 35.0)))


def rvol_score(s: Snap) -> float | None:
    """Relative volume read with the bar's direction (see the module docstring)."""
    rvol, open_, close = _get(s, "rvol_20"), _get(s, "open"), _get(s, "close")
    if rvol is None:
        return None
    if open_ is not None and close is not None and close < open_:
        return float(ramp(rvol, 2.0, 0.8))
    return float(ramp(rvol, 0.8, 2.0))


def volume_parts(s: Snap) -> dict[str, float | None]:
    """The four volume sub-scores (None where the indicator is unknown)."""
    obv, mfi, cmf = _get(s, "obv_slope_20"), _get(s, "mfi_14"), _get(s, "cmf_20")
    return {
        "rvol": rvol_score(s),
        "obv": None if obv is None else ramp(obv, -0.1, 0.3),
        "mfi": None if mfi is None else ramp(mfi, 35.0, 65.0),
        "cmf": None if cmf is None else ramp(cmf, -0.10, 0.15),
    }


def components(s: Snap) -> dict[str, float | None]:
    """The four component scores of a snapshot."""
    vol = volume_parts(s)
    weekly, rs = _get(s, "weekly_trend"), _get(s, "rs_rank")
    return {
        "trend": trend_score(s),
        "volume": blend(vol, dict.fromkeys(vol, 1.0)),
        "weekly": None if weekly is None else clip01((weekly + 1.0) / 2.0),
        "relative_strength": None if rs is None else ramp(rs, 0.2, 0.9),
    }


def confirm(snapshot: Snap, config: StrategyConfig) -> StageScore:
    """Score the confirmation stage; `details` holds every component and volume sub-score."""
    minimum = config.stage_minimums.confirmation
    parts = components(snapshot)
    total = blend(parts, COMPONENT_WEIGHTS)
    details = {k: round(v, 4) for k, v in parts.items() if v is not None}
    details |= {
        f"volume_{k}": round(v, 4) for k, v in volume_parts(snapshot).items() if v is not None
    }
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
