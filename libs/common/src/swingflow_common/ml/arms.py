"""One arm of a validation: an account traded window after window, as the walk-forward's
out-of-sample parts are (`backtest.walk_forward`): each window starts flat with the equity
the previous one ended with, and the buy-and-hold curve is chained the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from swingflow_common.backtest.bars import BarIndex
from swingflow_common.backtest.engine import Judged, assemble, buy_and_hold, simulate_period
from swingflow_common.backtest.metrics import compute_metrics
from swingflow_common.backtest.result import BacktestResult, BacktestTrade, EquityPoint, Metrics
from swingflow_common.backtest.simulate import Entry
from swingflow_common.config import RiskSettings, StrategyConfig
from swingflow_common.data.dataset import Dataset


@dataclass
class Arm:
    """The running account of one arm."""

    cash: float
    bench: float = -1.0
    trades: list[BacktestTrade] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    candidates: int = 0
    confirmed: int = 0

    def trade(
        self,
        dataset: Dataset,
        symbols: Sequence[str],
        sessions: npt.NDArray[np.int64],
        judged: Judged,
        risk: RiskSettings,
        entry: Entry,
        slippage_atr: float | None,
        bars: BarIndex,
    ) -> Metrics:
        """Trade one window's confirmed signals from the arm's equity; the window's metrics."""
        if self.bench < 0:
            self.bench = self.cash
        start = self.cash
        sim, points = simulate_period(
            dataset, symbols, sessions, judged, risk.model_copy(update={"initial_cash": start}),
            entry=entry, slippage_atr=slippage_atr, bars=bars,
        )  # fmt: skip
        # buy and hold of one unit, chained onto the benchmark's own last value: the same
        # numbers in both arms, whatever each arm's equity
        unit = buy_and_hold(dataset, symbols, sessions, 1.0)
        points = [
            p.model_copy(update={"benchmark": self.bench * float(u)})
            for p, u in zip(points, unit, strict=True)
        ]
        for t in sim.trades:
            self.trades.append(t.model_copy(update={"seq": len(self.trades) + 1}))
        self.equity += points
        self.rejected.update(sim.rejected)
        self.candidates += judged.candidates
        self.confirmed += judged.confirmed
        self.cash, self.bench = points[-1].equity, points[-1].benchmark
        return compute_metrics(sim.trades, points, start)


def assemble_arm(
    arm: Arm,
    name: str,
    run_id: str,
    dataset: Dataset,
    symbols: Sequence[str],
    config: StrategyConfig,
    options: dict[str, object],
) -> BacktestResult:
    """The arm's whole out-of-sample period as a pipeline `BacktestResult`."""
    return assemble(
        run_id=run_id, dataset=dataset, symbols=symbols, config=config,
        options={**options, "arm": name}, trades=arm.trades, equity=arm.equity,
        candidates=arm.candidates, confirmed=arm.confirmed, rejected=arm.rejected,
    )  # fmt: skip
