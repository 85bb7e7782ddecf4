"""The pipeline-mode backtest: the live platform's own functions, session by session.

1. Stage 1: `pipeline.history.candidates_over_history`, the candidates a live scanner
   would have emitted on each bar (one analysis per symbol; no module looks ahead).
2. Stages 2-4 and integration: per session, the candidates go to the ML scorer in one
   batch (`pipeline.score_batch`; no scorer -> the neutral stage, as in the signals
   service) and through `pipeline.evaluate`, exactly as the signals service judges them.
   Without a scorer, stages 1-4 run on arrays (`backtest.judge_rows`: the same stage
   functions over many rows) and the confirmed signals are a table (`simulate.Offers`),
   no message built.
3. Portfolio: the paper-trading service's sizing and fill rules, `portfolio.allocate` and
   `portfolio.on_bar`, run by `backtest.simulate_fast` on a book of plain numbers.

`reference=True` instead builds each taken signal's message (`candidates_at` +
`evaluate`, checked against the array verdict) and runs `backtest.simulate` on the
pydantic Book; the result is the same (tests compare them).

A signal seen at a session's close fills at the next open (or, with `entry="close"`, at
that close) with slippage (`risk.slippage_bps`, or `slippage_atr` x the signal's ATR per
share) and commission on both sides. See docs/backtest.md.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.backtest.bars import BarIndex, ns_index
from swingflow_common.backtest.judge_rows import judge_history_rows
from swingflow_common.backtest.metrics import (
    compute_metrics,
    group_metrics,
    monthly_returns,
)
from swingflow_common.backtest.result import BacktestResult, BacktestTrade, EquityPoint
from swingflow_common.backtest.simulate import (
    Entry,
    Offers,
    Order,
    Simulation,
    equity_points,
    session_of,
    simulate,
)
from swingflow_common.backtest.simulate_fast import simulate_offers
from swingflow_common.config import RiskSettings, StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike, to_utc
from swingflow_common.messages import CandidateSignal, utcnow
from swingflow_common.pipeline import MlScorer, evaluate, score_batch
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.progress import Progress, no_progress


@dataclass(frozen=True)
class Judged:
    """Stages 2-4 over a period: the confirmed signals in offer order, and the funnel."""

    offers: Offers  # by session, best total first
    candidates: int
    confirmed: int
    per_session: dict[int, int]  # session ns -> candidates seen

    @cached_property
    def orders(self) -> dict[int, list[Order]]:
        """session ns -> its offers as Orders (what the reference loop takes)."""
        return self.offers.orders()

    def funnel(self, sessions: npt.NDArray[np.int64]) -> tuple[int, int]:
        """(candidates, confirmed) on the given sessions only."""
        return (
            sum(self.per_session.get(ns, 0) for ns in sessions.tolist()),
            self.offers.count_on(sessions),
        )


def resolve_symbols(dataset: Dataset, symbols: Iterable[str] | None) -> list[str]:
    """The symbols to trade, upper-cased, de-duplicated and checked against the dataset."""
    if symbols is None:
        return sorted(dataset.bars)
    wanted = sorted({s.strip().upper() for s in symbols if s.strip()})
    unknown = [s for s in wanted if s not in dataset.bars]
    if unknown:
        raise KeyError(f"{dataset.name} has no symbol(s) {', '.join(unknown)}")
    if not wanted:
        raise ValueError("no symbols given")
    return wanted


def sessions_of(
    dataset: Dataset, symbols: Sequence[str], start: DateLike | None, end: DateLike | None
) -> npt.NDArray[np.int64]:
    """Every session (int64 ns) on which one of `symbols` has a bar, within [start, end]."""
    stamps = np.unique(np.concatenate([ns_index(dataset.bars[s].index) for s in symbols]))
    lo = -(2**62) if start is None else int(to_utc(start).as_unit("ns").value)
    hi = 2**62 if end is None else int(to_utc(end).as_unit("ns").value)
    chosen: npt.NDArray[np.int64] = stamps[(stamps >= lo) & (stamps <= hi)]
    if len(chosen) == 0:
        raise ValueError(f"{dataset.name} has no bar of those symbols between {start} and {end}")
    return chosen


def judge(
    candidates: Sequence[CandidateSignal],
    config: StrategyConfig,
    scorer: MlScorer | None = None,
    progress: Progress | None = None,
) -> Judged:
    """Stages 2-4 on every candidate, one ML batch per session, as the signals service."""
    report = progress or no_progress
    by_session: dict[int, list[CandidateSignal]] = {}
    for c in candidates:
        by_session.setdefault(session_of(c.ts), []).append(c)
    orders: dict[int, list[Order]] = {}
    confirmed = done = 0
    total = len(candidates)
    for ns in sorted(by_session):
        batch = by_session[ns]
        outcomes = score_batch(batch, scorer, config)
        taken = [
            Order.of(e)
            for e in (evaluate(c, config, o) for c, o in zip(batch, outcomes, strict=True))
            if e.signal is not None
        ]
        if taken:
            taken.sort(key=lambda o: (-o.total, o.symbol, o.setup))
            orders[ns] = taken
            confirmed += len(taken)
        done += len(batch)
        report("evaluate", done, total)
    per_session = {ns: len(b) for ns, b in by_session.items()}
    return Judged(Offers.of_orders(orders), total, confirmed, per_session)


def judge_period(
    dataset: Dataset,
    config: StrategyConfig,
    symbols: Sequence[str],
    sessions: npt.NDArray[np.int64],
    scorer: MlScorer | None = None,
    progress: Progress | None = None,
    *,
    messages: bool = False,
) -> Judged:
    """Stages 1-4 on the bars of `sessions` (earlier bars only warm indicators up).

    Without a scorer, on arrays (`judge_rows`), and `messages=True` keeps what each
    offer's ConfirmedSignal is built from.
    """
    report = progress or no_progress
    report("candidates", 0, 1)
    first, last = (pd.Timestamp(int(sessions[i]), tz="UTC") for i in (0, -1))
    if scorer is not None:  # the model needs each candidate's message
        candidates = candidates_over_history(dataset, config, symbols, first, last)
        report("candidates", 1, 1)
        return judge(candidates, config, scorer, report)
    rows = judge_history_rows(dataset, config, symbols, first, last, messages=messages)
    report("candidates", 1, 1)
    total = sum(rows.per_session.values())
    report("evaluate", total, total)
    return Judged(rows.offers, total, len(rows.offers), rows.per_session)


def simulate_period(
    dataset: Dataset,
    symbols: Sequence[str],
    sessions: npt.NDArray[np.int64],
    judged: Judged,
    risk: RiskSettings,
    *,
    entry: Entry = "next_open",
    slippage_atr: float | None = None,
    progress: Progress | None = None,
    bars: BarIndex | None = None,
    reference: bool = False,
) -> tuple[Simulation, list[EquityPoint]]:
    """The portfolio over `sessions` from `risk.initial_cash`, with the benchmark beside it.

    `reference=True` runs the services' own functions on the pydantic Book
    (`simulate.simulate`, each taken signal's message built) instead of the same loop on
    plain numbers (`simulate_fast`); the two give the same trades, equity and rejections.
    """
    index = bars or BarIndex(dataset)
    if reference:
        sim = simulate(
            index, sessions, judged.orders, risk,
            entry=entry, slippage_atr=slippage_atr, progress=progress,
        )  # fmt: skip
    else:
        sim = simulate_offers(
            index, sessions, judged.offers, risk,
            entry=entry, slippage_atr=slippage_atr, progress=progress,
        )  # fmt: skip
    bench = buy_and_hold(dataset, symbols, sessions, risk.initial_cash)
    return sim, equity_points(sessions, sim, bench)


def buy_and_hold(
    dataset: Dataset, symbols: Sequence[str], sessions: npt.NDArray[np.int64], cash: float
) -> npt.NDArray[np.float64]:
    """Equal weight of the symbols trading on the first session, bought at its close and
    held (a symbol whose data end keeps its last close); no costs."""
    index = pd.DatetimeIndex(sessions.view("datetime64[ns]")).tz_localize("UTC")
    closes = pd.concat({s: dataset.bars[s]["close"] for s in symbols}, axis=1)
    panel = closes.reindex(closes.index.union(index)).ffill().reindex(index).to_numpy()
    first = panel[0]
    held = np.isfinite(first) & (first > 0)
    if not held.any():
        return np.full(len(sessions), cash)
    shares = np.where(held, cash / held.sum() / np.where(held, first, 1.0), 0.0)
    values = np.where(np.isfinite(panel), panel, 0.0) @ shares
    out: npt.NDArray[np.float64] = values.astype(np.float64)
    return out


def _run_id(dataset: Dataset, symbols: Sequence[str], inputs: list[object]) -> str:
    """A deterministic id from what defines the run."""
    blob = json.dumps([dataset.name, list(symbols), inputs], sort_keys=True, default=str)
    return "bt-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def assemble(
    *,
    run_id: str | None,
    dataset: Dataset,
    symbols: Sequence[str],
    config: StrategyConfig,
    options: dict[str, object],
    trades: Sequence[BacktestTrade],
    equity: Sequence[EquityPoint],
    candidates: int,
    confirmed: int,
    rejected: Counter[str] | dict[str, int],
) -> BacktestResult:
    """A pipeline BacktestResult with every metric and breakdown computed."""
    cash = config.risk.initial_cash
    return BacktestResult(
        id=run_id or _run_id(dataset, symbols, [options, config, equity[0].day, equity[-1].day]),
        mode="pipeline",
        dataset=dataset.name,
        symbols=tuple(symbols),
        start=equity[0].day,
        end=equity[-1].day,
        created_at=utcnow(),
        config=config.model_dump(mode="json"),
        options=options,
        initial_cash=cash,
        trades=tuple(trades),
        equity=tuple(equity),
        metrics=compute_metrics(trades, equity, cash),
        by_symbol=group_metrics(trades, lambda t: t.symbol),
        by_setup=group_metrics(trades, lambda t: t.setup),
        by_exit_reason=group_metrics(trades, lambda t: t.exit_reason),
        monthly=monthly_returns(equity),
        candidates=candidates,
        confirmed=confirmed,
        rejected=dict(sorted(rejected.items())),
    )


def run_pipeline_backtest(
    dataset: Dataset,
    config: StrategyConfig,
    *,
    symbols: Iterable[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    entry: Entry = "next_open",
    slippage_atr: float | None = None,
    run_id: str | None = None,
    scorer: MlScorer | None = None,
    progress: Progress | None = None,
    reference: bool = False,
) -> BacktestResult:
    """Backtest the four-stage pipeline of `config` on `dataset` between `start` and `end`
    (inclusive; bars before `start` still warm the indicators up).

    `symbols` limits what is traded (every symbol still counts in relative strength);
    `slippage_atr` replaces `risk.slippage_bps` by that fraction of the signal's ATR.
    `reference=True` takes the services' message path throughout (every taken signal's
    message built and checked, the pydantic Book): slower, the same result (tests compare them).
    Progress stages: "candidates", "evaluate", "simulate". Deterministic: the same inputs
    give the same trades, equity and metrics (and, without `run_id`, the same id).
    """
    if slippage_atr is not None and slippage_atr < 0:
        raise ValueError(f"slippage_atr must be >= 0, got {slippage_atr}")
    wanted = resolve_symbols(dataset, symbols)
    sessions = sessions_of(dataset, wanted, start, end)
    judged = judge_period(dataset, config, wanted, sessions, scorer, progress,
                          messages=reference)  # fmt: skip
    sim, equity = simulate_period(
        dataset, wanted, sessions, judged, config.risk,
        entry=entry, slippage_atr=slippage_atr, progress=progress, reference=reference,
    )  # fmt: skip
    options: dict[str, object] = {
        "entry": entry,
        "slippage_atr": slippage_atr,
        "ml_scorer": None if scorer is None else type(scorer).__name__,
    }
    return assemble(
        run_id=run_id, dataset=dataset, symbols=wanted, config=config, options=options,
        trades=sim.trades, equity=equity, candidates=judged.candidates,
        confirmed=judged.confirmed, rejected=sim.rejected,
    )  # fmt: skip
