"""What every analysis module takes and gives.

A module is a pure function from one symbol's bars to named float64 arrays of the same
length, NaN while it warms up. Value `i` may depend on bars `0..i` only: changing any bar
after `i` leaves it unchanged (a property test checks this for every module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
Features = dict[str, FloatArray]
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class OHLCV:
    """One symbol's bars as contiguous float64 arrays, oldest first."""

    ts: npt.NDArray[np.datetime64]  # bar open time, UTC, datetime64[ns]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OHLCV:
        """From a frame with a DatetimeIndex and open/high/low/close/volume columns."""
        idx = pd.DatetimeIndex(frame.index)
        # int64 ns: since the epoch in UTC for an aware index (a naive one: its wall time)
        ts = (idx if idx.unit == "ns" else idx.as_unit("ns")).asi8.view("datetime64[ns]")
        names = frame.columns.tolist()
        block: FloatArray | None = None
        if len(set(names)) == len(names) and set(_PRICE_COLUMNS) <= set(names):
            try:  # every column at once: a view of a float frame, far cheaper than five Series
                block = frame.to_numpy(dtype=np.float64, copy=False)
            except (TypeError, ValueError):  # a column that is not a number
                block = None

        def col(name: str) -> FloatArray:
            if block is not None:
                return np.ascontiguousarray(block[:, names.index(name)])
            return np.ascontiguousarray(frame[name].to_numpy(dtype=np.float64))

        return cls(ts, *(col(name) for name in _PRICE_COLUMNS))

    def head(self, n: int) -> OHLCV:
        """The first `n` bars (what was known at bar n-1)."""
        return OHLCV(
            self.ts[:n],
            self.open[:n],
            self.high[:n],
            self.low[:n],
            self.close[:n],
            self.volume[:n],
        )


class Module(Protocol):
    """The shape of an analysis module (a Python module in this package)."""

    NAME: str
    KEYS: tuple[str, ...]

    def compute(self, bars: OHLCV) -> Features: ...
