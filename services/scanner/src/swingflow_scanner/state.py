"""The scanner's state and the batch-to-candidates step, with no NATS and no database.

A batch of bars goes through three passes:

1. `intake`: each bar is fitted into its symbol's book (new, duplicate, correction, out
   of order) and applied at once; `rollback` undoes it if the batch cannot be stored;
2. `record_rocs`: the `roc_63` of every new bar goes into the per-session book that
   relative strength ranks from (all symbols, owned or not);
3. `analyze`: for each symbol this replica owns, one analysis per window start covers all
   its new bars (`pipeline.history.candidates_for_bars`), each bar ranked against the
   session before it. Because the feed sends a whole session before the next, passes 2
   then 3 see every return of the previous session: the result equals the batch pipeline.

The analysis runs in the tiers of `pipeline.features`: every module only where a setup
hits. A symbol's latest analysis (for the `analysis` KV bucket) is therefore complete when
a setup hit on its last bar, else it holds the setup tier and waits in `unfinished` until
`finish_latest` completes it, which the service does when no batch is waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import talib

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import Bar, CandidateSignal
from swingflow_common.pipeline.features import compute_features
from swingflow_common.pipeline.history import (
    bar_time,
    candidates_for_bars,
    slice_bars,
    window_start,
)
from swingflow_common.pipeline.snapshot import snapshot_at
from swingflow_scanner.book import Fit, Mark, SymbolBars, bar_ns, bar_ns_at, bar_row
from swingflow_scanner.latest import LatestAnalysis
from swingflow_scanner.partition import Partition
from swingflow_scanner.ranks import RocBook

ROC_PERIOD = 63
ROC_BARS = ROC_PERIOD + 1  # bars a roc_63 needs
RANK_SESSIONS = 8  # sessions of returns kept for ranking
SLACK = 256  # bars beyond the kept length before a book is trimmed (amortizes the copy)


@dataclass
class Intake:
    """What a batch did to the books, bar by bar."""

    fits: list[Fit] = field(default_factory=list)  # one per bar given
    to_store: list[Bar] = field(default_factory=list)  # new or corrected bars of owned symbols
    refused: list[int] = field(default_factory=list)  # positions of owned out-of-order bars
    changed: dict[str, set[int]] = field(default_factory=dict)  # symbol -> new/corrected idx
    reannounce: dict[str, set[int]] = field(default_factory=dict)  # redelivered, owned
    marks: dict[str, Mark] = field(default_factory=dict)


@dataclass
class Found:
    candidates: list[CandidateSignal]
    latest: list[LatestAnalysis]
    analyses: int


class ScannerState:
    """Every symbol's bars and the session returns, for one replica."""

    def __init__(self, config: StrategyConfig, partition: Partition | None = None) -> None:
        self.config = config
        self.partition = partition or Partition()
        self.books: dict[str, SymbolBars] = {}
        self.rocs = RocBook()
        # symbol -> its latest analysis with the setup tier only, oldest first
        self.unfinished: dict[str, LatestAnalysis] = {}

    def keep(self, symbol: str) -> int:
        """Bars kept for `symbol`: the analysis window if owned, else what roc_63 needs."""
        return self.config.lookback_bars if self.partition.owns(symbol) else ROC_BARS

    def book(self, symbol: str) -> SymbolBars:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = SymbolBars()
        return book

    # -- pass 1 --------------------------------------------------------------------------

    def intake(self, bars: Sequence[Bar], redelivered: Sequence[bool] | None = None) -> Intake:
        """Fit and apply each bar in order (see `book.Fit`)."""
        out = Intake()
        for position, bar in enumerate(bars):
            book = self.book(bar.symbol)
            if bar.symbol not in out.marks:
                out.marks[bar.symbol] = book.mark()
            ns, row = bar_ns(bar), bar_row(bar)
            fit = book.fit(ns, row)
            owned = self.partition.owns(bar.symbol)
            out.fits.append(fit)
            if fit in (Fit.NEW, Fit.CORRECTION):
                i = book.append(ns, row) if fit is Fit.NEW else book.replace_last(row)
                out.changed.setdefault(bar.symbol, set()).add(i)
                if owned:
                    out.to_store.append(bar)
            elif fit is Fit.OUT_OF_ORDER and owned:
                out.refused.append(position)
            elif fit is Fit.DUPLICATE and owned and redelivered and redelivered[position]:
                index = book.index_of(ns)
                if index is not None:  # a retry after a failure: announce its candidates again
                    out.reannounce.setdefault(bar.symbol, set()).add(index)
        return out

    def rollback(self, intake: Intake) -> None:
        """Undo `intake` (the batch could not be stored)."""
        for symbol, mark in intake.marks.items():
            self.books[symbol].restore(mark)

    # -- pass 2 --------------------------------------------------------------------------

    def record_rocs(self, intake: Intake) -> None:
        """Each new or corrected bar's roc_63 in the session book (TA-Lib's ROC, as the
        analysis module computes it: the value at a bar depends on that bar and 63 back)."""
        for symbol, indices in intake.changed.items():
            book = self.books[symbol]
            lo, hi = min(indices), max(indices)
            start = max(0, lo - ROC_PERIOD)
            values = talib.ROC(np.ascontiguousarray(book.close[start : hi + 1]), ROC_PERIOD)
            for i in sorted(indices):
                self.rocs.record(symbol, int(book.ts[i]), float(values[i - start]))

    # -- pass 3 --------------------------------------------------------------------------

    def analyze(self, intake: Intake) -> Found:
        """Candidates on every new, corrected or re-announced bar of the owned symbols."""
        found = Found([], [], 0)
        for one in self.analyze_each(intake):
            found.candidates += one.candidates
            found.latest += one.latest
            found.analyses += one.analyses
        return found

    def analyze_each(self, intake: Intake) -> Iterator[Found]:
        """`analyze` one symbol at a time, in symbol order, so a caller can announce a
        symbol's candidates while the next one is analyzed."""
        todo: dict[str, set[int]] = {}
        for source in (intake.changed, intake.reannounce):
            for symbol, indices in source.items():
                if self.partition.owns(symbol):
                    todo.setdefault(symbol, set()).update(indices)
        for symbol in sorted(todo):
            yield self._analyze_symbol(symbol, todo[symbol])

    def _analyze_symbol(self, symbol: str, indices: set[int]) -> Found:
        book = self.books[symbol]
        ts = book.ts

        def rank_of(i: int) -> float | None:
            rank: float | None = self.rocs.rank(symbol, int(ts[i]))
            return rank

        bars = book.ohlcv()
        result = candidates_for_bars(symbol, bars, sorted(indices), self.config, rank_of,
                                     complete_last=False)  # fmt: skip
        analyses = len({max(0, i - self.config.lookback_bars + 1) for i in indices})
        last = result.last_index
        when = bar_time(bars, last)
        features = {**result.last_snapshot, "rs_rank": rank_of(last)}
        setups = tuple(c.setup for c in result.candidates if c.ts == when)
        latest = LatestAnalysis.at(symbol, when, features, setups, result.last_complete)
        self.unfinished.pop(symbol, None)
        if not latest.complete:
            self.unfinished[symbol] = latest
        return Found(list(result.candidates), [latest], analyses)

    def finish_latest(self) -> LatestAnalysis | None:
        """Complete the oldest unfinished latest analysis with every module's features (the
        snapshot `analyze` gives with a setup hit); None when none is left, or when its bar
        is no longer in the book (the symbol is no longer owned)."""
        if not self.unfinished:
            return None
        symbol = next(iter(self.unfinished))
        partial = self.unfinished.pop(symbol)
        book = self.books.get(symbol)
        i = None if book is None else book.index_of(bar_ns_at(partial.ts))
        if book is None or i is None or not self.partition.owns(symbol):
            return None
        start = window_start(i, self.config.lookback_bars)
        feats = compute_features(slice_bars(book.ohlcv(), start, i + 1))
        features = {**snapshot_at(feats, i - start), "rs_rank": partial.features.get("rs_rank")}
        return LatestAnalysis.at(symbol, partial.ts, features, partial.setups, True)

    def trim(self, symbols: Iterable[str] | None = None) -> None:
        """Drop bars no longer needed (after a batch: indices stay valid within one), from
        `symbols` (the ones a batch added to: a book only grows by intake) or every book."""
        for symbol in self.books if symbols is None else symbols:
            book = self.books[symbol]
            keep = self.keep(symbol)
            if len(book) > keep + SLACK:
                book.trim(keep)
        self.rocs.trim(RANK_SESSIONS)

    # -- restart -------------------------------------------------------------------------

    def load(self, history: Iterable[tuple[str, Sequence[Bar]]]) -> int:
        """Rebuild the books from stored bars (oldest first per symbol); returns bars loaded."""
        loaded = 0
        for symbol, bars in history:
            book = self.book(symbol)
            for bar in bars:
                if book.fit(bar_ns(bar), bar_row(bar)) is Fit.NEW:
                    book.append(bar_ns(bar), bar_row(bar))
                    loaded += 1
            if len(book):  # the returns of its last sessions, for ranking the next bar
                n = len(book)
                self.record_rocs(Intake(changed={symbol: set(range(max(0, n - RANK_SESSIONS), n))}))
        self.trim()
        return loaded

    def step(self, bars: Sequence[Bar]) -> Found:
        """All three passes on one batch (no storage): what the service does per batch."""
        intake = self.intake(bars)
        self.record_rocs(intake)
        found = self.analyze(intake)
        self.trim()
        return found
