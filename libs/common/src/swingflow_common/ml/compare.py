"""The statistics of a validation: two arms of the same out-of-sample backtest (the ML
stage neutral, and the ML stage answered by a model) compared without overclaiming.

- `expectancy_difference`: mean return per trade (after costs) of each arm and a 95%
  interval of the difference from a cluster bootstrap: the clusters (the weeks the trades'
  signals fell in) are resampled, and each draw keeps the same clusters for both arms. So
  trades the arms share move together (identical arms give exactly [0, 0], which an
  independent resampling of each arm would not), and trades of one week, which ride the
  same market, stay together. Weeks are still not independent; the interval is an
  approximation, stated as such, never as a p-value.
- `paired_windows`: walk-forward only, each window's out-of-sample return with the model
  minus without it, with a bootstrap interval of the mean over windows.
- `verdict`: one plain sentence from those figures; "beyond noise" only when the interval
  excludes zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

FloatArray = npt.NDArray[np.float64]
LEVEL = 0.95


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExpectancyComparison(_Frozen):
    """Mean trade return (fraction, after costs) per arm and the difference ml - neutral."""

    n_neutral: int
    n_ml: int
    neutral: float | None
    ml: float | None
    difference: float | None
    ci: tuple[float, float] | None  # cluster-bootstrap 95% interval of the difference
    clusters: int  # the resampled units (e.g. signal weeks) over both arms
    n_boot: int
    seed: int


class PairedWindows(_Frozen):
    """Per window: out-of-sample total return with the model minus without it."""

    differences: tuple[float, ...]
    mean: float | None
    ci: tuple[float, float] | None  # bootstrap 95% interval of the mean (3+ windows)
    ml_better: int
    ml_worse: int
    ties: int


def _interval(values: FloatArray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [50 * (1 - LEVEL), 100 - 50 * (1 - LEVEL)])
    return float(lo), float(hi)


def _means(counts: FloatArray, cluster: npt.NDArray[np.int64], r: FloatArray) -> FloatArray:
    """Each draw's weighted mean of `r` (weights: the draw's count of each trade's cluster)."""
    w = counts[:, cluster]
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = (w * r).sum(axis=1) / total
    return out


def expectancy_difference(
    neutral: Sequence[float],
    ml: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    neutral_keys: Sequence[str] | None = None,
    ml_keys: Sequence[str] | None = None,
) -> ExpectancyComparison:
    """Compare the trade returns of the two arms; `*_keys` name each trade's cluster (by
    default every trade is its own, so the arms are resampled independently). An interval
    needs 2+ trades in each arm."""
    a, b = np.asarray(neutral, dtype=np.float64), np.asarray(ml, dtype=np.float64)
    ka = list(neutral_keys) if neutral_keys is not None else [f"n{i}" for i in range(len(a))]
    kb = list(ml_keys) if ml_keys is not None else [f"m{i}" for i in range(len(b))]
    if len(ka) != len(a) or len(kb) != len(b):
        raise ValueError("one cluster key per trade")
    names = sorted(set(ka) | set(kb))
    index = {k: i for i, k in enumerate(names)}
    mean_a = float(a.mean()) if len(a) else None
    mean_b = float(b.mean()) if len(b) else None
    diff = None if mean_a is None or mean_b is None else mean_b - mean_a
    ci = None
    if len(a) >= 2 and len(b) >= 2 and n_boot >= 1:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(names), size=(n_boot, len(names)))
        counts = np.zeros((n_boot, len(names)))
        np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
        ca = np.array([index[k] for k in ka], dtype=np.int64)
        cb = np.array([index[k] for k in kb], dtype=np.int64)
        d = _means(counts, cb, b) - _means(counts, ca, a)
        d = d[np.isfinite(d)]
        ci = _interval(d) if len(d) else None
    return ExpectancyComparison(
        n_neutral=len(a), n_ml=len(b), neutral=mean_a, ml=mean_b, difference=diff, ci=ci,
        clusters=len(names), n_boot=n_boot, seed=seed,
    )  # fmt: skip


def paired_windows(
    neutral: Sequence[float], ml: Sequence[float], n_boot: int = 2000, seed: int = 0
) -> PairedWindows:
    """Window-by-window differences of out-of-sample total returns (same windows)."""
    if len(neutral) != len(ml):
        raise ValueError(f"{len(neutral)} neutral windows against {len(ml)} with the model")
    d = np.asarray(ml, dtype=np.float64) - np.asarray(neutral, dtype=np.float64)
    ci = None
    if len(d) >= 3 and n_boot >= 1:
        rng = np.random.default_rng(seed)
        ci = _interval(d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1))
    eps = 1e-12
    return PairedWindows(
        differences=tuple(float(x) for x in d), mean=float(d.mean()) if len(d) else None,
        ci=ci, ml_better=int((d > eps).sum()), ml_worse=int((d < -eps).sum()),
        ties=int((np.abs(d) <= eps).sum()),
    )  # fmt: skip


def _pct(x: float) -> str:
    return f"{100.0 * x:+.2f}%"


def verdict(
    expectancy: ExpectancyComparison,
    paired: PairedWindows | None = None,
    windows_without_model: int = 0,
    windows: int = 1,
) -> str:
    """One sentence (or three) saying what the comparison supports, and no more."""
    e = expectancy
    notes = []
    if windows_without_model:
        notes.append(f"{windows_without_model} of {windows} windows had too little training "
                     "data for a model and ran the neutral stage in both arms.")  # fmt: skip
    if paired is not None and paired.differences:
        notes.append(f"Window by window the model arm returned more in {paired.ml_better}, "
                     f"less in {paired.ml_worse} and the same in {paired.ties} of "
                     f"{len(paired.differences)} windows.")  # fmt: skip
    if e.ci is None or e.difference is None or e.neutral is None or e.ml is None:
        head = (f"Too few out-of-sample trades to compare (neutral {e.n_neutral}, with the "
                f"model {e.n_ml}): no conclusion about the ML stage.")  # fmt: skip
        return " ".join([head, *notes])
    lo, hi = e.ci
    figures = (f"mean return per trade {_pct(e.neutral)} neutral ({e.n_neutral} trades) "
               f"against {_pct(e.ml)} with the model ({e.n_ml} trades), difference "
               f"{_pct(e.difference)}, 95% bootstrap interval "
               f"[{_pct(lo)}, {_pct(hi)}]")  # fmt: skip
    if lo > 0:
        head = (f"Out of sample the ML stage raised expectancy beyond bootstrap noise: "
                f"{figures}. One history only, and overlapping trades make the interval "
                "optimistic.")  # fmt: skip
    elif hi < 0:
        head = f"Out of sample the ML stage lowered expectancy beyond bootstrap noise: {figures}."
    elif lo == hi == 0:
        head = f"The two arms traded identically out of sample: {figures}."
    else:
        head = (f"The ML stage did not change out-of-sample expectancy beyond noise: {figures}, "
                "which spans 0.")  # fmt: skip
    return " ".join([head, *notes])
