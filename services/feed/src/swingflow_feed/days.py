"""A dataset as the sequence of trading days the feed publishes, each day's bars together.

The replay goes day by day in time order, every symbol of a day before the next day, so a
consumer always has the whole previous session when a bar arrives (what relative
strength needs). Bars are built lazily, one day at a time, as validated `Bar` messages;
a row the message refuses is skipped and counted, never published.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import ValidationError

from swingflow_common.data import Dataset
from swingflow_common.messages import Bar

log = logging.getLogger(__name__)

COLUMNS = ("open", "high", "low", "close", "volume")


class FeedError(ValueError):
    """A dataset the feed cannot publish; the message says why and what to use instead."""


@dataclass(frozen=True)
class Day:
    """One session of the replay: its position in the dataset, date and bars."""

    index: int
    ts: datetime
    bars: tuple[Bar, ...]
    skipped: int = 0  # rows that failed Bar validation


def check_publishable(dataset: Dataset) -> None:
    """Refuse a dataset that cannot become Bars (no volume), or that is empty."""
    if not dataset.bars:
        raise FeedError(f"dataset {dataset.name!r} has no symbols")
    missing = [s for s, f in dataset.bars.items() if bool(f["volume"].isna().any())]
    if dataset.adjustment == "close_only" or missing:
        raise FeedError(
            f"dataset {dataset.name!r} has no volume "
            f"({len(missing)} of {len(dataset.bars)} symbols have NaN volume; it is "
            f"{dataset.adjustment}), so it cannot be published as Bars: choose a dataset "
            "with open/high/low/close/volume, such as sp500-2010"
        )


class DaySource:
    """The days of a dataset, as date x symbol arrays built once."""

    def __init__(self, dataset: Dataset) -> None:
        check_publishable(dataset)
        self.name = dataset.name
        self.symbols = list(dataset.symbols)
        self.dates = dataset.dates
        self._values = np.stack(
            [dataset.panel(c).reindex(columns=self.symbols).to_numpy(np.float64) for c in COLUMNS],
            axis=-1,
        )  # (dates, symbols, 5)

    def __len__(self) -> int:
        return len(self.dates)

    def first_after(self, cursor: datetime | None) -> int:
        """The index of the first day after `cursor` (0 without one)."""
        if cursor is None:
            return 0
        return int(self.dates.searchsorted(pd.Timestamp(cursor), side="right"))

    def day(self, index: int) -> Day:
        """Day `index` as validated Bars, in symbol order."""
        ts: datetime = self.dates[index].to_pydatetime()
        bars: list[Bar] = []
        skipped = 0
        for symbol, row in zip(self.symbols, self._values[index].tolist(), strict=True):
            if math.isnan(row[3]):
                continue  # no bar for this symbol that day
            try:
                bars.append(
                    Bar(
                        symbol=symbol,
                        ts=ts,
                        open=row[0],
                        high=row[1],
                        low=row[2],
                        close=row[3],
                        volume=row[4],
                    )
                )
            except ValidationError as exc:
                skipped += 1
                log.warning(
                    "row skipped", extra={"symbol": symbol, "ts": str(ts), "error": str(exc)}
                )
        return Day(index, ts, tuple(bars), skipped)

    def days(self, start: int = 0) -> Iterator[Day]:
        for index in range(start, len(self.dates)):
            yield self.day(index)
