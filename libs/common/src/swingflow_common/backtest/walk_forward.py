"""Walk-forward: rolling in-sample / out-of-sample windows, out-of-sample reported apart.

The sessions of the period are cut into windows: window k's in-sample part is the
`in_sample_bars` sessions from `k x step_bars`, its out-of-sample part the
`out_of_sample_bars` sessions right after (the last one may be shorter). `step_bars`
defaults to `out_of_sample_bars`, so the out-of-sample parts tile the period without
overlapping; a smaller step is refused (a session would be traded twice).

`fit(data, in_sample_start, in_sample_end, config)`, when given, tunes the config on the
in-sample window and sees only the bars up to its end (`data` is cut there), so nothing
of the out-of-sample part can leak into it. Without `fit` the same config runs in both
parts, which then only report the strategy in and out of the period it was built on.

Each in-sample part is simulated from the initial cash. The out-of-sample parts form one
account: each starts flat (positions are sold at the end of the previous part) with the
equity the previous one ended with, and their trades and daily equity, stitched, are the
result's headline `trades`, `equity` and `metrics`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.backtest.bars import BarIndex
from swingflow_common.backtest.engine import (
    Judged,
    assemble,
    judge_period,
    resolve_symbols,
    sessions_of,
    simulate_period,
)
from swingflow_common.backtest.metrics import compute_metrics
from swingflow_common.backtest.result import (
    BacktestResult,
    BacktestTrade,
    EquityPoint,
    WindowResult,
)
from swingflow_common.backtest.simulate import Entry
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike
from swingflow_common.pipeline import MlScorer
from swingflow_common.progress import Progress, no_progress

Fit = Callable[[Dataset, date, date, StrategyConfig], StrategyConfig]


@dataclass(frozen=True)
class Window:
    """Positions (into the period's sessions) of one window's two parts, ends inclusive."""

    index: int
    is_first: int
    is_last: int
    oos_first: int
    oos_last: int


def plan_windows(n_sessions: int, in_sample: int, out_of_sample: int, step: int) -> list[Window]:
    """The windows over `n_sessions` sessions (see the module docstring)."""
    if in_sample < 1 or out_of_sample < 1:
        raise ValueError("in_sample_bars and out_of_sample_bars must be >= 1")
    if step < out_of_sample:
        raise ValueError(
            f"step_bars {step} < out_of_sample_bars {out_of_sample}: "
            "out-of-sample windows would overlap"
        )
    windows = []
    k = 0
    while k * step + in_sample < n_sessions:
        start = k * step
        oos_first = start + in_sample
        oos_last = min(oos_first + out_of_sample, n_sessions) - 1
        windows.append(Window(k, start, oos_first - 1, oos_first, oos_last))
        k += 1
    if not windows:
        raise ValueError(
            f"{n_sessions} sessions leave no out-of-sample bar after {in_sample} in-sample bars"
        )
    return windows


def _day(ns: int) -> date:
    day: date = pd.Timestamp(ns, tz="UTC").date()
    return day


class _Judges:
    """Stages 1-4 per config, computed once per distinct config over the whole period."""

    def __init__(self, dataset: Dataset, symbols: list[str], sessions: npt.NDArray[np.int64],
                 scorer: MlScorer | None) -> None:  # fmt: skip
        self.dataset, self.symbols, self.sessions, self.scorer = dataset, symbols, sessions, scorer
        self.cache: dict[str, Judged] = {}

    def __call__(self, config: StrategyConfig, report: Progress) -> Judged:
        key = config.model_dump_json()
        if key not in self.cache:
            self.cache[key] = judge_period(
                self.dataset, config, self.symbols, self.sessions, self.scorer, report
            )
        return self.cache[key]


def _scaled(points: list[EquityPoint], cash: float, base: float) -> list[EquityPoint]:
    """The benchmark of a window chained onto the previous window's end value."""
    factor = base / cash
    return [p.model_copy(update={"benchmark": p.benchmark * factor}) for p in points]


def run_walk_forward(
    dataset: Dataset,
    config: StrategyConfig,
    *,
    in_sample_bars: int,
    out_of_sample_bars: int,
    step_bars: int | None = None,
    fit: Fit | None = None,
    symbols: Iterable[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    entry: Entry = "next_open",
    slippage_atr: float | None = None,
    run_id: str | None = None,
    scorer: MlScorer | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Walk-forward backtest of the pipeline (see the module docstring); the result's
    `walk_forward` holds each window's in-sample and out-of-sample figures."""
    report = progress or no_progress
    wanted = resolve_symbols(dataset, symbols)
    sessions = sessions_of(dataset, wanted, start, end)
    step = out_of_sample_bars if step_bars is None else step_bars
    windows = plan_windows(len(sessions), in_sample_bars, out_of_sample_bars, step)
    judges = _Judges(dataset, wanted, sessions, scorer)
    bars = BarIndex(dataset)
    initial = config.risk.initial_cash
    cash, bench_base = initial, initial
    trades: list[BacktestTrade] = []
    equity: list[EquityPoint] = []
    rejected: Counter[str] = Counter()
    results: list[WindowResult] = []
    fitted: list[dict[str, object]] = []
    counted = np.zeros(2, dtype=np.int64)
    for w in windows:
        report("walk_forward", w.index, len(windows))
        is_days = (_day(int(sessions[w.is_first])), _day(int(sessions[w.is_last])))
        cfg = config
        if fit is not None:
            known = dataset.slice(None, pd.Timestamp(int(sessions[w.is_last]), tz="UTC"))
            cfg = fit(known, is_days[0], is_days[1], config)
            fitted.append(cfg.model_dump(mode="json"))
        judged = judges(cfg, report)
        kw = {"entry": entry, "slippage_atr": slippage_atr, "bars": bars}
        is_sessions = sessions[w.is_first : w.is_last + 1]
        is_sim, is_eq = simulate_period(dataset, wanted, is_sessions, judged, cfg.risk, **kw)  # type: ignore[arg-type]
        oos_sessions = sessions[w.oos_first : w.oos_last + 1]
        risk = cfg.risk.model_copy(update={"initial_cash": cash})
        oos_sim, oos_eq = simulate_period(dataset, wanted, oos_sessions, judged, risk, **kw)  # type: ignore[arg-type]
        oos_eq = _scaled(oos_eq, cash, bench_base)
        results.append(
            WindowResult(
                index=w.index, in_sample_start=is_days[0], in_sample_end=is_days[1],
                out_of_sample_start=oos_eq[0].day, out_of_sample_end=oos_eq[-1].day,
                in_sample=compute_metrics(is_sim.trades, is_eq, cfg.risk.initial_cash),
                out_of_sample=compute_metrics(oos_sim.trades, oos_eq, cash),
            )
        )  # fmt: skip
        for t in oos_sim.trades:
            trades.append(t.model_copy(update={"seq": len(trades) + 1}))
        equity += oos_eq
        rejected.update(oos_sim.rejected)
        counted += judged.funnel(oos_sessions)
        cash, bench_base = oos_eq[-1].equity, oos_eq[-1].benchmark
    report("walk_forward", len(windows), len(windows))
    options: dict[str, object] = {
        "entry": entry,
        "slippage_atr": slippage_atr,
        "ml_scorer": None if scorer is None else type(scorer).__name__,
        "walk_forward": {
            "in_sample_bars": in_sample_bars,
            "out_of_sample_bars": out_of_sample_bars,
            "step_bars": step,
            "fit": None if fit is None else getattr(fit, "__name__", type(fit).__name__),
        },
    }
    if fitted:
        options["fitted_configs"] = fitted
    result = assemble(
        run_id=run_id, dataset=dataset, symbols=wanted, config=config, options=options,
        trades=trades, equity=equity, candidates=int(counted[0]), confirmed=int(counted[1]),
        rejected=rejected,
    )  # fmt: skip
    return result.model_copy(update={"walk_forward": tuple(results)})
