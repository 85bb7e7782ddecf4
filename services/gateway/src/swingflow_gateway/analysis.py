"""Indicator arrays for the symbol page, computed from stored bars with the pipeline's code.

The chart asks for the last N bars; the indicators are computed over N + `WARMUP_BARS`
bars (the 200-day average and the 52-week high need a year of history) and then cut to
the last N, so the arrays line up with the bars and carry values from the first one.
Each value at bar i uses bars up to i only, like everywhere else in swingflow.

The analysis modules load numba and TA-Lib (several seconds the first time), so they are
imported on first use or by `warm_up`, which the app runs in a thread at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from swingflow_common.analysis.base import OHLCV, Features
from swingflow_common.messages import Bar

WARMUP_BARS = 300
PRICE_KEYS = frozenset({"open", "high", "low", "close", "volume"})


class UnknownIndicatorError(ValueError):
    """An indicator name the analysis modules do not produce."""


@dataclass(frozen=True)
class Indicators:
    arrays: dict[str, list[float | None]]
    latest: dict[str, float | None]


def to_ohlcv(bars: Sequence[Bar]) -> OHLCV:
    """Bars (oldest first) as the contiguous arrays the analysis modules take."""

    def column(name: str) -> np.ndarray:
        return np.fromiter((getattr(b, name) for b in bars), dtype=np.float64, count=len(bars))

    ts = np.array([b.ts.replace(tzinfo=None) for b in bars], dtype="datetime64[ns]")
    return OHLCV(ts, column("open"), column("high"), column("low"), column("close"),
                 column("volume"))  # fmt: skip


def _features(ohlcv: OHLCV) -> Features:
    from swingflow_common.pipeline.features import compute_features

    return compute_features(ohlcv)


def _clean(values: list[float]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def compute(bars: Sequence[Bar], keep: int, names: Sequence[str] | None = None) -> Indicators:
    """Every indicator (or only `names`) over `bars`, cut to the last `keep` bars."""
    if not bars:
        return Indicators({}, {})
    features = {k: v for k, v in _features(to_ohlcv(bars)).items() if k not in PRICE_KEYS}
    if names:
        unknown = sorted(set(names) - set(features))
        if unknown:
            raise UnknownIndicatorError(
                f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(sorted(features))}"
            )
        features = {k: features[k] for k in names}
    cut = max(len(bars) - keep, 0)
    arrays = {k: _clean(v[cut:].tolist()) for k, v in sorted(features.items())}
    latest = {k: values[-1] for k, values in arrays.items()}
    return Indicators(arrays, latest)


def warm_up() -> None:
    """Import the analysis modules and run them once, so the first request is not slow."""
    n = WARMUP_BARS
    close = 100.0 + np.sin(np.arange(n) / 7.0)
    ts = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    _features(OHLCV(ts, close, close + 1.0, close - 1.0, close, np.full(n, 1e6)))
