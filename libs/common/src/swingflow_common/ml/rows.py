"""Candidates as feature rows: the compact `ml.predict` request, both ends of it.

The signals service sends `feature_rows(candidates, config)`: every feature the batch
has, computed by `features.feature_matrix` (what the ml service would compute from the
whole candidates), the matrix as float64 bytes. The ml service reads it back with
`rows_matrix` in its model's column order. A model's feature the rows lack is NaN, as it
is when a candidate's snapshot lacks the value, so the two request forms score the same
candidates to the same bytes (tested on real candidates).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import CandidateSignal, FeatureRows
from swingflow_common.ml.features import FloatMatrix, batch_feature_names, feature_matrix

LITTLE_FLOAT64 = np.dtype("<f8")


def encode_rows(signal_ids: Sequence[str], names: Sequence[str], x: FloatMatrix) -> FeatureRows:
    """The rows message of the (signals, names) matrix `x`."""
    if x.shape != (len(signal_ids), len(names)):
        raise ValueError(f"a {x.shape} matrix for {len(signal_ids)} ids and {len(names)} names")
    raw = np.ascontiguousarray(x, dtype=LITTLE_FLOAT64).tobytes()
    return FeatureRows(signal_ids=tuple(signal_ids), names=tuple(names), values=raw)


def feature_rows(candidates: Sequence[CandidateSignal], config: StrategyConfig) -> FeatureRows:
    """Every feature of `candidates` (stage scores by `config`'s stages), as rows."""
    return chunked_rows(candidates, config, max(1, len(candidates)))[0]


def chunked_rows(
    candidates: Sequence[CandidateSignal], config: StrategyConfig, size: int
) -> list[FeatureRows]:
    """`feature_rows` of every `size` candidates in turn (at least one message), the
    features computed once for all of them (the stage functions' fixed costs once)."""
    names = batch_feature_names(candidates)
    x = feature_matrix(candidates, names, config)
    ids = [c.id for c in candidates]
    starts = range(0, len(candidates), size) if candidates else range(1)
    return [encode_rows(ids[i : i + size], names, x[i : i + size]) for i in starts]


@lru_cache(maxsize=64)
def _columns(sent: tuple[str, ...], wanted: tuple[str, ...]) -> npt.NDArray[np.intp]:
    """For each wanted name, its column among `sent`, or len(sent) (a NaN column)."""
    where = {name: j for j, name in enumerate(sent)}
    return np.array([where.get(name, len(sent)) for name in wanted], dtype=np.intp)


def rows_matrix(rows: FeatureRows, names: tuple[str, ...]) -> FloatMatrix:
    """The (signals, names) float64 matrix of `rows`: a name the rows lack, and a value
    that is not finite, are NaN (not known)."""
    sent = np.frombuffer(rows.values, dtype=LITTLE_FLOAT64)
    sent = sent.reshape(len(rows.signal_ids), len(rows.names))
    padded = np.full((len(sent), len(rows.names) + 1), np.nan)
    padded[:, :-1] = sent
    x: FloatMatrix = padded[:, _columns(rows.names, names)]
    x[~np.isfinite(x)] = np.nan
    return x
