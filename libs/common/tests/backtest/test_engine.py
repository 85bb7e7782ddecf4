"""The pipeline backtest on the bundled real data: the issue's first task (100+ trades),
no look-ahead, determinism, portfolio limits and the progress callback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from swingflow_common.backtest.engine import run_pipeline_backtest
from swingflow_common.backtest.metrics import METRIC_NAMES
from swingflow_common.backtest.result import BacktestResult
from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import CandidateSignal, MlPrediction, MlPredictReply

DATASET = "megacaps-2013-2023"  # 6 names, 10+ years of split-adjusted OHLCV
CUT = pd.Timestamp("2017-06-30", tz="UTC")


@pytest.fixture(scope="module")
def megacaps() -> Dataset:
    return load_builtin(DATASET)


@pytest.fixture(scope="module")
def full_run(megacaps: Dataset) -> BacktestResult:
    return run_pipeline_backtest(megacaps, StrategyConfig())


def _scrambled_after(ds: Dataset, cut: pd.Timestamp) -> Dataset:
    """Every bar after `cut` scaled by a random factor (bars stay valid), volume redrawn."""
    rng = np.random.default_rng(7)
    bars = {}
    for symbol, frame in ds.bars.items():
        frame = frame.copy()
        later = frame.index > cut
        factor = rng.uniform(0.7, 1.3, later.sum())
        for col in ("open", "high", "low", "close"):
            frame.loc[later, col] = frame.loc[later, col].to_numpy() * factor
        frame.loc[later, "volume"] = rng.uniform(1e6, 1e8, later.sum())
        bars[symbol] = frame
    return replace(ds, bars=bars)


def test_the_default_config_trades_100_times_or_more_on_the_bundled_megacaps(
    full_run: BacktestResult,
) -> None:
    r = full_run
    assert len(r.trades) >= 100
    assert r.candidates >= r.confirmed >= len(r.trades)
    assert {t.symbol for t in r.trades} <= set(r.symbols)
    assert r.metrics["trades"] == len(r.trades)
    assert set(r.metrics) == set(METRIC_NAMES)
    assert r.metrics["net_profit"] == pytest.approx(sum(t.pnl for t in r.trades))
    # the account ends where the trades' P&L (costs included) took it
    assert r.equity[-1].equity == pytest.approx(r.initial_cash + sum(t.pnl for t in r.trades))
    assert all(t.fees > 0 and t.slippage > 0 for t in r.trades)
    assert all(t.entry_ts > t.signal_ts for t in r.trades)  # next open, never the signal bar
    assert all(t.base_signal is not None and t.total is not None for t in r.trades)
    assert sum(m["trades"] or 0 for m in r.by_setup.values()) == len(r.trades)
    assert len(r.monthly) > 120


def test_portfolio_limits_hold_on_every_session(full_run: BacktestResult) -> None:
    risk = StrategyConfig().risk
    for p in full_run.equity:
        open_on_day = [t for t in full_run.trades if t.entry_ts.date() <= p.day < t.exit_ts.date()]
        assert len(open_on_day) <= risk.max_positions
        assert p.cash >= 0
        assert 0 <= p.exposure <= 1
    equity_on = {p.day: p.equity for p in full_run.equity}
    for t in full_run.trades:  # sized at the signal's close on that session's equity
        assert t.stop is not None
        assert t.target is not None
        signal_close = t.stop + (t.target - t.stop) * 2.0 / 5.0  # stop 2 ATR, target 3 ATR
        weight = t.quantity * signal_close / equity_on[t.signal_ts.date()]
        assert weight <= risk.max_weight_per_symbol + 1e-3


def test_changing_every_bar_after_a_day_changes_nothing_decided_before_it(
    megacaps: Dataset,
) -> None:
    ds = megacaps.select(["AAPL", "NVDA", "NFLX"])
    args = {"start": "2015-01-01", "end": "2019-12-31"}
    before = run_pipeline_backtest(ds, StrategyConfig(), **args)  # type: ignore[arg-type]
    after = run_pipeline_backtest(_scrambled_after(ds, CUT), StrategyConfig(), **args)  # type: ignore[arg-type]
    cut = CUT.to_pydatetime()
    done_before = [t for t in before.trades if t.exit_ts <= cut]
    assert len(done_before) >= 20
    assert done_before == [t for t in after.trades if t.exit_ts <= cut]
    signalled = [
        (t.signal_id, t.entry_ts, t.entry_price, t.quantity)
        for t in before.trades
        if t.signal_ts < cut
    ]
    assert signalled == [
        (t.signal_id, t.entry_ts, t.entry_price, t.quantity)
        for t in after.trades
        if t.signal_ts < cut
    ]
    assert [p for p in before.equity if p.day <= CUT.date()] == [
        p for p in after.equity if p.day <= CUT.date()
    ]
    assert before.trades != after.trades  # the scramble did reach the later trades


def test_the_same_inputs_give_the_same_result_and_report_progress(megacaps: Dataset) -> None:
    calls: list[tuple[str, int, int]] = []
    ds = megacaps.select(["MSFT"]) if "MSFT" in megacaps.bars else megacaps.select(["AAPL"])
    args = {"start": "2018-01-01", "end": "2020-12-31"}
    one = run_pipeline_backtest(ds, StrategyConfig(), progress=lambda *a: calls.append(a), **args)  # type: ignore[arg-type]
    two = run_pipeline_backtest(ds, StrategyConfig(), **args)  # type: ignore[arg-type]
    assert one.id == two.id
    assert (one.trades, one.equity, one.metrics) == (two.trades, two.equity, two.metrics)
    stages = [c[0] for c in calls]
    assert stages[0] == "candidates"
    assert {"evaluate", "simulate"} <= set(stages)
    last_sim = [c for c in calls if c[0] == "simulate"][-1]
    assert last_sim[1] == last_sim[2] == len(one.equity)


class _Doubtful:
    """A model that gives every candidate a 0.1 chance: the ML stage blocks everything."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return MlPredictReply(
            model_version="test-1",
            predictions=tuple(
                MlPrediction(signal_id=c.id, probability=0.1, neutral=False) for c in candidates
            ),
        )


def test_an_ml_scorer_is_asked_and_can_veto_every_signal(megacaps: Dataset) -> None:
    config = StrategyConfig.model_validate({"stage_minimums": {"ml_confidence": 0.3}})
    ds = megacaps.select(["AAPL"])
    r = run_pipeline_backtest(ds, config, start="2019-01-01", end="2020-12-31", scorer=_Doubtful())
    assert r.candidates > 0
    assert r.confirmed == 0
    assert r.trades == ()
    assert r.options["ml_scorer"] == "_Doubtful"
