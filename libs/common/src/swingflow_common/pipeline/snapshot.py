"""The features of one bar as a plain mapping: what a CandidateSignal carries downstream.

Later stages (confirmation, ML, entry timing) run in other processes from this snapshot
alone, so it holds every analysis value at the bar. A value still warming up (NaN) or
not finite becomes None, which JSON can carry and the stages treat as "unknown".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

Snapshot = dict[str, float | None]


def snapshot_at(features: Mapping[str, npt.NDArray[np.float64]], i: int) -> Snapshot:
    """Every feature's value at bar `i` (NaN and infinities as None), keys sorted."""
    out: Snapshot = {}
    for key in sorted(features):
        value = float(features[key][i])
        out[key] = value if math.isfinite(value) else None
    return out
