"""Small shapes every stage scores with: ramps, peaks and a weighted mean that skips gaps.

A stage turns raw indicator values into component scores in [0, 1] and blends them. A
missing input (an indicator still warming up, no relative-strength rank) leaves its
component out and the remaining weights are renormalized, so "unknown" never counts as
"bad".
"""

from __future__ import annotations

import math
from collections.abc import Mapping


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
