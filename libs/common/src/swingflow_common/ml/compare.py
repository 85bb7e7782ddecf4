"""The statistics of a validation: two arms of the same out-of-sample backtest (the ML
stage neutral, and the ML stage answered by a model) compared without overclaiming.

- `expectancy_difference`: mean return per trade (after costs) of each arm and a
  bootstrap 95% interval of the difference, each arm's trades resampled on their own.
  The two arms share most of their trades and trades of nearby dates are correlated, so
  the interval is an approximation; it is stated as such, never as a p-value.
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
    ci: tuple[float, float] | None  # bootstrap 95% interval of the difference
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


def expectancy_difference(
    neutral: Sequence[float], ml: Sequence[float], n_boot: int = 2000, seed: int = 0
) -> ExpectancyComparison:
    """Compare the trade returns of the two arms (an interval needs 2+ trades in each)."""
    a, b = np.asarray(neutral, dtype=np.float64), np.asarray(ml, dtype=np.float64)
    mean_a = float(a.mean()) if len(a) else None
    mean_b = float(b.mean()) if len(b) else None
    diff = None if mean_a is None or mean_b is None else mean_b - mean_a
    ci = None
    if len(a) >= 2 and len(b) >= 2 and n_boot >= 1:
        rng = np.random.default_rng(seed)
        boot_a = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
        boot_b = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
        ci = _interval(boot_b - boot_a)
    return ExpectancyComparison(
        n_neutral=len(a), n_ml=len(b), neutral=mean_a, ml=mean_b, difference=diff, ci=ci,
        n_boot=n_boot, seed=seed,
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
