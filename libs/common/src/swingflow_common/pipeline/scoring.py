"""Small shapes every stage scores with: ramps, peaks and a weighted mean that skips gaps.

A stage turns raw indicator values into component scores in [0, 1] and blends them. A
missing input (an indicator still warming up, no relative-strength rank) leaves its
component out and the remaining weights are renormalized, so "unknown" never counts as
"bad".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

# The row functions run on many rows (float64 arrays, a backtest's history) or on one row
# (plain floats: the per-candidate call a service makes, where numpy's per-call overhead
# would cost ~10x); the same code, operators and `where`/`finite` below, serves both.
Rows = Any  # a float64 array of rows, or a float for one row
RowGetter = Callable[[str], Rows]  # key -> its values on the rows scored (NaN: unknown)


def where(cond: Any, a: Any, b: Any) -> Any:
    """`np.where` for arrays; `a if cond else b` for one row."""
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    return a if cond else b


def finite(x: Any) -> Any:
    """`np.isfinite` for arrays, `math.isfinite` for one row."""
    return np.isfinite(x) if isinstance(x, np.ndarray) else math.isfinite(x)


def any_of(mask: Any) -> bool:
    """Whether any row is True."""
    return bool(mask.any()) if isinstance(mask, np.ndarray) else bool(mask)


def zeros_like(x: Any) -> Any:
    """0.0 on every row of `x`."""
    return np.zeros(x.shape[0]) if isinstance(x, np.ndarray) else 0.0


def clip01(x: float) -> float:
    """`x` clipped to [0, 1]."""
    return 0.0 if x <= 0.0 else 1.0 if x >= 1.0 else x


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below `lo`, 1 at or above `hi`, linear between (falls when lo > hi)."""
    return clip01((x - lo) / (hi - lo))


def peak(x: float, centre: float, half_width: float) -> float:
    """1 at `centre`, falling linearly to 0 at `centre +/- half_width`."""
    return clip01(1.0 - abs(x - centre) / half_width)


def known(x: float | None) -> bool:
    """True when `x` is a usable number (not None, not NaN, not infinite)."""
    return x is not None and math.isfinite(x)


def blend(components: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The weighted mean of the known components (weights renormalized), None if none is.

    None and NaN both mean unknown and are left out.
    """
    num = den = 0.0
    for name, value in components.items():
        if value is None or not math.isfinite(value):
            continue
        w = weights[name]
        num += w * value
        den += w
    return num / den if den > 0 else None


def clip01_rows(x: Rows) -> Rows:
    """`clip01` of every row (NaN stays NaN)."""
    return where(x <= 0.0, 0.0, where(x >= 1.0, 1.0, x))


def ramp_rows(x: Rows, lo: float, hi: float) -> Rows:
    """`ramp` of every row: the same operations, so the same floats."""
    if isinstance(x, np.ndarray):
        with np.errstate(invalid="ignore"):
            return clip01_rows((x - lo) / (hi - lo))
    return clip01_rows((x - lo) / (hi - lo))


def peak_rows(x: Rows, centre: float, half_width: float) -> Rows:
    """`peak` of every row."""
    if isinstance(x, np.ndarray):
        with np.errstate(invalid="ignore"):
            return clip01_rows(1.0 - abs(x - centre) / half_width)
    return clip01_rows(1.0 - abs(x - centre) / half_width)


def blend_rows(components: Mapping[str, Rows], weights: Mapping[str, float]) -> Rows:
    """`blend` of every row (NaN where no component is known): the known components are
    summed in the same order as `blend` does, so each row is the float `blend` gives."""
    first = next(iter(components.values()))
    num, den = zeros_like(first), zeros_like(first)
    for name, value in components.items():
        known_rows = finite(value)
        w = weights[name]
        num = num + where(known_rows, w * value, 0.0)
        den = den + where(known_rows, w, 0.0)
    return where(den > 0, num / where(den > 0, den, 1.0), math.nan)


def describe(components: Mapping[str, float | None], strong: float, weak: float) -> str:
    """'strong: trend 0.82; weak: volume 0.21; missing: rs' - the reason text of a stage."""
    strong_parts = [f"{k} {v:.2f}" for k, v in components.items() if v is not None and v >= strong]
    weak_parts = [f"{k} {v:.2f}" for k, v in components.items() if v is not None and v < weak]
    missing = [k for k, v in components.items() if v is None]
    parts = []
    if strong_parts:
        parts.append("strong: " + ", ".join(strong_parts))
    if weak_parts:
        parts.append("weak: " + ", ".join(weak_parts))
    if not strong_parts and not weak_parts:
        parts.append("all components middling")
    if missing:
        parts.append("missing: " + ", ".join(missing))
    return "; ".join(parts)


def snapshot_rows(snapshot: Mapping[str, float | None]) -> RowGetter:
    """A snapshot as the one-row input of a stage's row functions (unknown -> NaN)."""

    def get(key: str) -> Rows:
        value = snapshot.get(key)
        return value if known(value) else math.nan

    return get


def finite_rows(values: Rows) -> Rows:
    """`values` with every non-finite entry as NaN (what a snapshot's None becomes)."""
    return where(finite(values), values, math.nan)


def rounded(values: Rows, digits: int = 4) -> list[float]:
    """Python's `round` of every row (numpy's rounding can differ in the last place)."""
    if not isinstance(values, np.ndarray):
        return [round(values, digits)]
    out: list[float] = round_rows(values, digits).tolist()
    return out


def round_rows(values: npt.NDArray[np.float64], digits: int = 4) -> npt.NDArray[np.float64]:
    """`round(x, digits)` of every row, bit for bit, without a Python call per row.

    Python rounds the exact binary value half-to-even to `digits` decimals, N / 10**digits,
    and returns the double nearest to that; `np.round` scales by 10**digits first, and the
    product's own rounding can tip a near-tie the other way. Here `rint(x * 10**digits)`
    is N whenever the product is farther from a tie than its rounding error (2**-53 of
    it; 2**-50 keeps a margin), and N / 10**digits, one correctly rounded division of two
    exact doubles, is then Python's double. The few other rows (near-ties, non-finite,
    beyond 2**50) are handed to Python's `round` itself; a property test holds the two
    equal on random, tie and near-tie values.
    """
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        out: npt.NDArray[np.float64] = np.rint(scaled) / scale
        margin = np.abs(scaled) * 2.0**-50
        sure = (np.abs(scaled - np.floor(scaled) - 0.5) > margin) & (np.abs(scaled) < 2.0**50)
    if not sure.all():
        doubtful = np.flatnonzero(~sure)
        out[doubtful] = [round(x, digits) for x in values[doubtful].tolist()]
    return out
