"""Fast look-up of one symbol's bar on one session, as the `Bar` message the fills take.

The simulation asks only for the few symbols the book holds or waits to buy, so each
symbol's frame is turned into arrays once, on first use, and a session is found by a
binary search on its int64 nanoseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.analysis.base import OHLCV
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import Bar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_index(index: pd.Index) -> npt.NDArray[np.int64]:
    """A UTC DatetimeIndex as int64 nanoseconds since the epoch."""
    stamps = pd.DatetimeIndex(index)
    if stamps.unit != "ns":
        stamps = stamps.as_unit("ns")
    return stamps.asi8


@dataclass(frozen=True)
class _Series:
    ns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]  # (bars, 5): open high low close volume


class BarIndex:
    """Bars of a dataset by (symbol, session nanoseconds)."""

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._series: dict[str, _Series] = {}

    def _get(self, symbol: str) -> _Series:
        series = self._series.get(symbol)
        if series is None:
            bars = OHLCV.from_frame(self._dataset.bars[symbol])
            values = np.stack([bars.open, bars.high, bars.low, bars.close, bars.volume], axis=1)
            series = _Series(bars.ts.view(np.int64), values)
            self._series[symbol] = series
        return series

    def arrays(self, symbol: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The symbol's bar times (int64 ns) and (bars, 5) open, high, low, close, volume."""
        series = self._get(symbol)
        return series.ns, series.values

    def last_ns(self, symbol: str) -> int:
        """The time of the symbol's last bar in the dataset."""
        return int(self._get(symbol).ns[-1])

    def bar(self, symbol: str, ns: int) -> Bar | None:
        """The symbol's bar opening at `ns`, or None when it has none that session."""
        series = self._get(symbol)
        k = int(np.searchsorted(series.ns, ns))
        if k >= len(series.ns) or int(series.ns[k]) != ns:
            return None
        o, h, low, c, v = series.values[k].tolist()
        # the loaders validated and repaired every bar: no need to validate it again
        return Bar.model_construct(
            symbol=symbol,
            interval="1d",
            ts=EPOCH + timedelta(microseconds=ns // 1000),
            open=o,
            high=h,
            low=low,
            close=c,
            volume=v if math.isfinite(v) else 0.0,  # close-only data: volume unknown
        )
