"""Stage 1 over a whole history: the candidates a live scanner emits, bar after bar.

The live scanner sees bars one session at a time; a backtest sees the whole history at
once. Both must find exactly the same candidates, so both follow one rule, the one of
`pipeline.scan`:

- the features of bar `i` are those of `compute_features` on the `lookback_bars` bars
  ending at `i` (all bars from the first when there are fewer);
- its `rs_rank` is its percentile of `roc_63` among the symbols that had a bar on the
  session before (`analysis.relative_strength`).

`candidates_for_bars` is the per-symbol step the scanner runs on the bars a batch added:
since no analysis looks ahead (bit for bit, a property test checks every module), one
analysis of the bars up to the last new one gives the features of every new bar whose
window starts at the same bar, so catching up k bars costs one analysis, not k.
It works in the two tiers of `pipeline.features`: the setup modules first, and every other
module only for a window in which a setup hits (a candidate carries every feature), so the
candidates are bit for bit those of `compute_features`, at a third of the cost on a day
where most symbols have no setup. `candidates_over_history` runs it over a dataset, or,
with `bar_by_bar=True`, literally analyzes each bar's own window with every module (the
slow reference the fast paths are tested against).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from swingflow_common.analysis import relative_strength, roc
from swingflow_common.analysis.base import OHLCV, Features
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike, to_utc
from swingflow_common.messages import CandidateSignal
from swingflow_common.pipeline.candidates import candidates_at
from swingflow_common.pipeline.features import (
    complete_features,
    compute_features,
    setup_features,
)
from swingflow_common.pipeline.setups import detect_setups, scan_setups
from swingflow_common.pipeline.snapshot import Snapshot, snapshot_at

RankOf = Callable[[int], float | None]  # bar index -> rs_rank (None: unknown)
ROC_KEY = "roc_63"


@dataclass(frozen=True)
class BarsAnalysis:
    """What `candidates_for_bars` found: the candidates, and the snapshot of the last bar
    it analyzed (without `rs_rank`), for a "latest analysis" view. `last_complete` says
    whether that snapshot holds every module's features (always, unless the caller asked
    for `complete_last=False`; then only when a setup hit in the last bar's window)."""

    candidates: list[CandidateSignal]
    last_index: int
    last_snapshot: Snapshot
    last_complete: bool = True


def window_start(i: int, lookback: int) -> int:
    """The first bar of bar `i`'s analysis window."""
    return max(0, i - lookback + 1)


def window_groups(indices: Iterable[int], lookback: int) -> Iterator[tuple[int, list[int]]]:
    """Sorted bar indices grouped by their window's first bar: one analysis per group."""
    groups: dict[int, list[int]] = {}
    for i in sorted(set(indices)):
        groups.setdefault(window_start(i, lookback), []).append(i)
    yield from groups.items()


def slice_bars(bars: OHLCV, start: int, stop: int) -> OHLCV:
    """Bars `start` to `stop` (exclusive) as views."""
    return OHLCV(
        bars.ts[start:stop],
        bars.open[start:stop],
        bars.high[start:stop],
        bars.low[start:stop],
        bars.close[start:stop],
        bars.volume[start:stop],
    )


def bar_time(bars: OHLCV, i: int) -> datetime:
    """Bar `i`'s open time as a UTC datetime."""
    stamp: datetime = pd.Timestamp(bars.ts[i], tz="UTC").to_pydatetime()
    return stamp


def _found(
    symbol: str, bars: OHLCV, feats: Features, i: int, local: int, config: StrategyConfig,
    rank_of: RankOf,
) -> list[CandidateSignal]:  # fmt: skip
    hits = detect_setups(feats, local, config)
    if not hits:  # the rank (an O(universe) look-up) is only needed when a setup hits
        return []
    return candidates_at(symbol, bar_time(bars, i), feats, local, config, rank_of(i), hits=hits)


def candidates_for_bars(
    symbol: str,
    bars: OHLCV,
    indices: Sequence[int],
    config: StrategyConfig,
    rank_of: RankOf,
    *,
    complete_last: bool = True,
) -> BarsAnalysis:
    """The candidates at each bar of `indices` (positions in `bars`, the symbol's history).

    Bar `i` is analyzed on its own window (see the module docstring); indices that share
    a window start share one analysis, of the setup tier, completed with the other modules
    only once a setup hits in it. `complete_last=False` leaves the last bar's snapshot at
    the setup tier when no setup hit there (`BarsAnalysis.last_complete`), for a caller
    that completes it later. Raises ValueError for an empty or out-of-range `indices`.
    """
    if not indices or min(indices) < 0 or max(indices) >= len(bars):
        raise ValueError(f"bar indices {list(indices)[:5]}... outside 0..{len(bars) - 1}")
    found: list[CandidateSignal] = []
    for start, group in window_groups(indices, config.lookback_bars):
        window = slice_bars(bars, start, group[-1] + 1)
        feats, complete = setup_features(window), False
        if len(group) == 1:  # one bar (the live case): plain floats, no numpy overhead
            scans = scan_setups(feats, group[0] - start, config)
            hit_rows = [0] if any(s.hit for s in scans) else []
        else:  # every bar of the group at once
            scans = scan_setups(feats, np.asarray(group, dtype=np.int64) - start, config)
            hit_any = np.zeros(len(group), dtype=bool)
            for scan in scans:
                hit_any |= scan.hit
            hit_rows = np.flatnonzero(hit_any).tolist()
        for j in hit_rows:
            i = group[j]
            hits = [s.at(j) for s in scans if (s.hit[j] if len(group) > 1 else s.hit)]
            if not complete:  # a candidate's snapshot holds every feature
                feats, complete = complete_features(feats, window), True
            rank = rank_of(i)  # an O(universe) look-up in some callers: only on a hit
            found += candidates_at(symbol, bar_time(bars, i), feats, i - start, config, rank,
                                   hits=hits)  # fmt: skip
    if complete_last and not complete:  # the last group's window and features
        feats, complete = complete_features(feats, window), True
    last = group[-1]
    return BarsAnalysis(found, last, snapshot_at(feats, last - start), complete)


def roc_panel(dataset: Dataset) -> pd.DataFrame:
    """Every symbol's `roc_63` (the analysis module's) on every date of the dataset."""
    dates = dataset.dates
    stamps = dates.as_unit("ns").asi8
    panel = np.full((len(dates), len(dataset.bars)), np.nan)
    for j, frame in enumerate(dataset.bars.values()):
        bars = OHLCV.from_frame(frame)
        # every bar's date is one of the dataset's: its row is found by a binary search
        panel[np.searchsorted(stamps, bars.ts.view(np.int64)), j] = roc.compute(bars)[ROC_KEY]
    return pd.DataFrame(panel, index=dates, columns=list(dataset.bars))


def rs_ranks(dataset: Dataset) -> pd.DataFrame:
    """Date x symbol `rs_rank` of every bar: the lagged percentile of `roc_63`."""
    return relative_strength.rank(roc_panel(dataset))


def _rank_lookup(ranks: pd.Series[float], bars: OHLCV) -> RankOf:
    values = ranks.reindex(pd.DatetimeIndex(bars.ts, tz="UTC")).to_numpy(np.float64)

    def rank_of(i: int) -> float | None:
        value = float(values[i])
        return value if math.isfinite(value) else None

    return rank_of


def _bar_by_bar(
    symbol: str, bars: OHLCV, indices: Sequence[int], config: StrategyConfig, rank_of: RankOf
) -> list[CandidateSignal]:
    found: list[CandidateSignal] = []
    for i in indices:
        start = window_start(i, config.lookback_bars)
        feats = compute_features(slice_bars(bars, start, i + 1))
        found += _found(symbol, bars, feats, i, i - start, config, rank_of)
    return found


def candidates_over_history(
    dataset: Dataset,
    config: StrategyConfig,
    symbols: Iterable[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    *,
    bar_by_bar: bool = False,
) -> list[CandidateSignal]:
    """Every candidate a live scanner would emit on `dataset`, ordered by (ts, symbol).

    `symbols` limits the symbols analyzed (default: all); every symbol of the dataset
    still counts in the relative-strength cross-section. `start`/`end` (inclusive) limit
    the bars candidates are looked for on; earlier bars still feed the indicators.
    `bar_by_bar=True` analyzes each bar on its own window (slow: the reference).
    """
    wanted = sorted(dataset.bars) if symbols is None else [s.upper() for s in symbols]
    unknown = [s for s in wanted if s not in dataset.bars]
    if unknown:
        raise KeyError(f"{dataset.name} has no symbol(s) {', '.join(unknown)}")
    ranks = rs_ranks(dataset)
    lo = None if start is None else to_utc(start)
    hi = None if end is None else to_utc(end)
    found: list[CandidateSignal] = []
    for symbol in wanted:
        frame = dataset.bars[symbol]
        a = 0 if lo is None else int(frame.index.searchsorted(lo, side="left"))
        b = len(frame) if hi is None else int(frame.index.searchsorted(hi, side="right"))
        if b <= a:
            continue
        bars = OHLCV.from_frame(frame.iloc[:b])
        rank_of = _rank_lookup(ranks[symbol], bars)
        indices = range(a, b)
        if bar_by_bar:
            found += _bar_by_bar(symbol, bars, indices, config, rank_of)
        else:
            found += candidates_for_bars(
                symbol, bars, indices, config, rank_of, complete_last=False
            ).candidates
    found.sort(key=lambda c: (c.ts, c.symbol))
    return found
