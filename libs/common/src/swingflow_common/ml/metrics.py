"""How good the probabilities are, out of sample: discrimination, calibration, and the
lift that matters for trading (the trades the model keeps against all of them).

Every function takes the out-of-sample predictions `p`, the labels `y` (1 = target
first) and, for the lift, each trade's return after costs. A figure that cannot be
computed (AUC with one class, a filter that keeps nothing) is None, never a made-up 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _mean(x: FloatArray) -> float | None:
    return float(np.mean(x)) if len(x) else None


def classification(
    p: FloatArray, y: IntArray, threshold: float, base_rate: float
) -> dict[str, Any]:
    """AUC, Brier (and its skill against always answering the training base rate),
    precision and share kept at `threshold`."""
    from sklearn.metrics import roc_auc_score

    kept = p >= threshold
    brier = float(np.mean((p - y) ** 2)) if len(y) else None
    reference = float(np.mean((base_rate - y) ** 2)) if len(y) else None
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "base_rate_train": base_rate,
        "threshold": threshold,
        "auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None,
        "brier": brier,
        "brier_reference": reference,
        "brier_skill": None if not reference or brier is None else 1.0 - brier / reference,
        "precision": _mean(y[kept].astype(np.float64)),
        "kept": int(kept.sum()),
    }


def calibration_table(p: FloatArray, y: IntArray, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed win rate in equal-width probability bins (empty bins out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({
                "low": float(edges[b]), "high": float(edges[b + 1]), "n": int(inside.sum()),
                "predicted": float(p[inside].mean()), "observed": float(y[inside].mean()),
            })  # fmt: skip
    return rows


def lift(
    kept: npt.NDArray[np.bool_],
    y: IntArray,
    returns: FloatArray,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Win rate and expectancy (mean return after costs) of the `kept` trades (those the
    model would take) against all of them, and a bootstrap 95% interval of each difference.

    The bootstrap resamples trades independently; trades of nearby dates are correlated,
    so the interval is, if anything, too narrow.
    """
    wins = y.astype(np.float64)
    out: dict[str, Any] = {
        "trades": len(y),
        "kept": int(kept.sum()),
        "win_rate_all": _mean(wins),
        "win_rate_kept": _mean(wins[kept]),
        "expectancy_all": _mean(returns),
        "expectancy_kept": _mean(returns[kept]),
    }
    diff = {}
    for name in ("win_rate", "expectancy"):
        a, k = out[f"{name}_all"], out[f"{name}_kept"]
        diff[name] = None if a is None or k is None else k - a
    out["win_rate_lift"], out["expectancy_lift"] = diff["win_rate"], diff["expectancy"]
    out["win_rate_lift_ci"], out["expectancy_lift_ci"] = _bootstrap(
        kept, wins, returns, n_boot, seed
    )
    return out


def _bootstrap(
    kept: npt.NDArray[np.bool_], wins: FloatArray, returns: FloatArray, n_boot: int, seed: int
) -> tuple[list[float] | None, list[float] | None]:
    n = len(kept)
    if n == 0 or not kept.any() or n_boot < 1:
        return None, None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    k = kept[draws]
    counts = k.sum(axis=1)
    ok = counts > 0
    result = []
    for values in (wins, returns):
        v = values[draws]
        diffs = (v * k).sum(axis=1)[ok] / counts[ok] - v.mean(axis=1)[ok]
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        result.append([float(lo), float(hi)])
    return result[0], result[1]
