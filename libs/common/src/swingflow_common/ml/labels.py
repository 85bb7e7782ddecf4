"""Labels: what each candidate's trade would have done, filled by the paper-trading rules.

Every candidate, taken or not, is traded alone on a fresh book through
`portfolio.fills.on_bar`, the very function that fills paper trades: an allocation
waits at the candidate's levels (`pipeline.levels_for`), fills at the next bar's open
plus slippage (or is cancelled when that open lies at or beyond the stop or target),
then exits on a gap, the stop (taken first when stop and target lie in one bar), the
target, or after `max_bars_held` bars. The label is 1 when the exit is the target (a
target gap included), else 0; the trade's `return_pct` is after commission and slippage
on both sides.

A candidate gets no label when its trade never happens or has no known outcome: no bar
after the signal, an open beyond the levels, or history ending before the trade closes
(`Skipped` says which). Only bars after the signal's bar are read, and only up to the
trade's exit, which `exit_index`/`exit_ts` record for purging in cross-validation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import Allocation, Bar, CandidateSignal
from swingflow_common.pipeline.integrate import levels_for
from swingflow_common.portfolio.book import Book, ExitReason, add_pending
from swingflow_common.portfolio.fills import on_bar
from swingflow_common.progress import Progress

SkipReason = Literal["not_in_data", "no_next_bar", "opened_beyond_levels", "unfinished"]
WINNING_EXITS: frozenset[str] = frozenset({"target", "target_gap"})
_QUANTITY = 100.0  # the return is per share, so any quantity will do
_CASH_MULTIPLE = 10.0  # the lone trade's book holds ten times what its shares cost
_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class TradeLabel:
    """A candidate's trade as the fill rules play it, and whether it won."""

    signal_id: str
    symbol: str
    setup: str
    signal_ts: datetime
    signal_index: int  # bar positions in the symbol's history
    entry_index: int
    exit_index: int
    exit_ts: datetime
    exit_reason: ExitReason
    bars_held: int
    return_pct: float  # after commission and slippage on both sides
    label: int  # 1: target first, 0: stop, stop gap or time


@dataclass(frozen=True)
class LabelSet:
    """The labels of a batch of candidates (in candidate order) and why the rest have none."""

    labels: tuple[TradeLabel, ...]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def win_rate(self) -> float:
        return float(np.mean([t.label for t in self.labels])) if self.labels else float("nan")


def _bar(symbol: str, ts: pd.Timestamp, row: np.ndarray) -> Bar:
    # Built without validation: the dataset's bars were validated (and repaired) on load.
    o, h, low, c, v = (float(x) for x in row)
    return Bar.model_construct(
        symbol=symbol, ts=ts.to_pydatetime(), open=o, high=h, low=low, close=c,
        volume=v if np.isfinite(v) else 0.0,
    )  # fmt: skip


def _allocation(candidate: CandidateSignal, config: StrategyConfig) -> Allocation:
    levels = levels_for(candidate.close, candidate.atr, config)
    return Allocation.model_construct(
        id=candidate.id, signal_id=candidate.id, symbol=candidate.symbol, ts=candidate.ts,
        quantity=_QUANTITY, price=levels.entry, stop=levels.stop, target=levels.target,
        risk_amount=_QUANTITY * (levels.entry - levels.stop), weight=0.0, cash_after=0.0,
        reason="label", ts_event=candidate.ts,
    )  # fmt: skip


def label_trade(
    candidate: CandidateSignal, frame: pd.DataFrame, config: StrategyConfig
) -> TradeLabel | SkipReason:
    """The trade of `candidate` on its symbol's bars `frame`, or why it has no label."""
    index = frame.index
    i = int(index.searchsorted(pd.Timestamp(candidate.ts), side="left"))
    if i >= len(index) or index[i] != pd.Timestamp(candidate.ts):
        return "not_in_data"
    if i + 1 >= len(index):
        return "no_next_bar"
    allocation = _allocation(candidate, config)
    reserve = _QUANTITY * allocation.price * 2.0
    book = add_pending(Book.open(reserve * _CASH_MULTIPLE), allocation, reserve)
    stop = min(len(index), i + 1 + config.risk.max_bars_held)
    rows = frame.iloc[i + 1 : stop][list(_COLUMNS)].to_numpy(np.float64)
    for k, row in enumerate(rows):
        outcome = on_bar(book, _bar(candidate.symbol, index[i + 1 + k], row), config.risk)
        if outcome.cancelled:
            return "opened_beyond_levels"
        if outcome.closed:
            trade = outcome.closed[0]
            return TradeLabel(
                signal_id=candidate.id, symbol=candidate.symbol, setup=candidate.setup,
                signal_ts=candidate.ts, signal_index=i, entry_index=i + 1,
                exit_index=i + 1 + k, exit_ts=trade.exit_ts, exit_reason=trade.exit_reason,
                bars_held=trade.bars_held, return_pct=trade.return_pct,
                label=int(trade.exit_reason in WINNING_EXITS),
            )  # fmt: skip
        book = outcome.book
    return "unfinished"


def label_candidates(
    candidates: Sequence[CandidateSignal],
    dataset: Dataset,
    config: StrategyConfig,
    progress: Progress | None = None,
) -> LabelSet:
    """Label every candidate on `dataset` (its symbol's bars); skipped ones are counted."""
    labels: list[TradeLabel] = []
    skipped: Counter[str] = Counter()
    step = max(1, len(candidates) // 100)
    for n, candidate in enumerate(candidates, 1):
        frame = dataset.bars.get(candidate.symbol)
        result = "not_in_data" if frame is None else label_trade(candidate, frame, config)
        if isinstance(result, TradeLabel):
            labels.append(result)
        else:
            skipped[result] += 1
        if progress is not None and (n % step == 0 or n == len(candidates)):
            progress("labels", n, len(candidates))
    return LabelSet(tuple(labels), dict(skipped))
