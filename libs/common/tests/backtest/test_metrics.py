"""Metrics on small constructed examples worked by hand, and on a real equity curve against
backtesting.py's own statistics."""

from __future__ import annotations

import math
import warnings
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from swingflow_common.backtest.engine import run_pipeline_backtest
from swingflow_common.backtest.metrics import (
    METRIC_NAMES,
    compute_metrics,
    group_metrics,
    monthly_returns,
    probabilistic_sharpe,
)
from swingflow_common.backtest.result import BacktestResult, BacktestTrade, EquityPoint
from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def trade(seq: int, pnl: float, ret: float, held: int, symbol: str = "AAA") -> BacktestTrade:
    entry = T0 + timedelta(days=10 * seq)
    return BacktestTrade(
        seq=seq, symbol=symbol, setup="trend_pullback" if seq % 2 else "breakout_volume",
        signal_ts=entry - timedelta(days=1), entry_ts=entry, entry_price=100.0,
        exit_ts=entry + timedelta(days=held), exit_price=100.0 * (1 + ret),
        exit_reason="target" if pnl > 0 else "stop", quantity=100.0, stop=95.0, target=110.0,
        fees=2.0, slippage=1.0, pnl=pnl, return_pct=ret, r_multiple=pnl / 500.0,
        bars_held=held,
    )  # fmt: skip


# exit order: win, win, loss, loss, win
TRADES = [
    trade(1, 100.0, 0.01, 3),
    trade(2, 200.0, 0.02, 2),
    trade(3, -50.0, -0.005, 5),
    trade(4, -25.0, -0.0025, 4),
    trade(5, 50.0, 0.005, 1, symbol="BBB"),
]


def curve(values: list[float], start: date = date(2024, 1, 1)) -> list[EquityPoint]:
    return [
        EquityPoint(day=start + timedelta(days=i), equity=v, cash=v, exposure=0.5 if i else 0.0,
                    benchmark=100.0 + i)
        for i, v in enumerate(values)
    ]  # fmt: skip


def test_trade_figures_match_the_hand_computed_values() -> None:
    m = compute_metrics(TRADES, curve([100.0, 101.0]), 100.0)
    pnl = [100.0, 200.0, -50.0, -25.0, 50.0]
    mean = 55.0
    std = math.sqrt(sum((p - mean) ** 2 for p in pnl) / 4)  # 103.68...
    assert m["trades"] == 5
    assert m["wins"] == 3
    assert m["losses"] == 2
    assert m["win_rate"] == pytest.approx(0.6)
    assert m["net_profit"] == pytest.approx(275.0)
    assert m["gross_profit"] == pytest.approx(350.0)
    assert m["gross_loss"] == pytest.approx(-75.0)
    assert m["profit_factor"] == pytest.approx(350.0 / 75.0)
    assert m["expectancy"] == pytest.approx(55.0)
    assert m["avg_win"] == pytest.approx(350.0 / 3)
    assert m["avg_loss"] == pytest.approx(-37.5)
    payoff = (350.0 / 3) / 37.5
    assert m["expectancy_ratio"] == pytest.approx((1 + payoff) * 0.6 - 1)
    assert m["kelly"] == pytest.approx(0.6 - 0.4 / payoff)
    assert m["sqn"] == pytest.approx(math.sqrt(5) * mean / std)
    assert m["avg_trade_return"] == pytest.approx(0.0055)
    growth = 1.01 * 1.02 * 0.995 * 0.9975 * 1.005
    assert m["geo_avg_trade_return"] == pytest.approx(growth**0.2 - 1)
    assert m["best_trade"] == 0.02
    assert m["worst_trade"] == -0.005
    assert m["avg_r_multiple"] == pytest.approx(55.0 / 500.0)
    assert m["avg_duration"] == pytest.approx(3.0)
    assert m["max_duration"] == 5
    assert m["avg_duration_winners"] == pytest.approx(2.0)
    assert m["avg_duration_losers"] == pytest.approx(4.5)
    assert m["max_consecutive_wins"] == 2
    assert m["max_consecutive_losses"] == 2
    assert m["total_fees"] == pytest.approx(10.0)
    assert m["total_slippage"] == pytest.approx(5.0)


def test_equity_figures_match_the_hand_computed_values() -> None:
    # daily returns +10%, -10%, +10%, +10%: one 10% drawdown from day 1, healed on day 4
    eq = curve([100.0, 110.0, 99.0, 108.9, 119.79])
    m = compute_metrics([], eq, 100.0)
    g = (1.1**3 * 0.9) ** 0.25 - 1
    ret_ann = (1 + g) ** 252 - 1
    day = np.array([0.1, -0.1, 0.1, 0.1])
    var = day.var(ddof=1)
    vol = math.sqrt((var + (1 + g) ** 2) ** 252 - (1 + g) ** 504)
    assert m["total_return"] == pytest.approx(0.1979)
    assert m["cagr"] == pytest.approx(1.1979 ** (365.25 / 4) - 1)
    assert m["return_ann"] == pytest.approx(ret_ann)
    assert m["volatility"] == pytest.approx(vol)
    assert m["sharpe"] == pytest.approx(ret_ann / vol)
    assert m["sortino"] == pytest.approx(ret_ann / (math.sqrt(0.01 / 4) * math.sqrt(252)))
    assert m["max_drawdown"] == pytest.approx(-0.1)
    assert m["calmar"] == pytest.approx(ret_ann / 0.1)
    assert m["max_drawdown_duration"] == 3  # from day 1's peak to day 4's new high
    assert m["avg_drawdown"] == pytest.approx(-0.1)
    assert m["exposure"] == pytest.approx(0.4)
    assert m["exposure_time"] == pytest.approx(0.8)
    assert m["equity_peak"] == pytest.approx(119.79)
    assert m["equity_min"] == 99.0
    assert m["buy_and_hold_return"] == pytest.approx(0.04)
    assert m["sharpe_daily"] == pytest.approx(day.mean() / day.std(ddof=1))
    assert m["best_day"] == pytest.approx(0.1)
    assert m["worst_day"] == pytest.approx(-0.1)
    assert m["winning_days"] == 3
    assert m["losing_days"] == 1
    assert m["trades"] == 0
    assert m["win_rate"] is None
    assert m["profit_factor"] is None
    assert set(m) == set(METRIC_NAMES)


def test_a_drawdown_still_open_at_the_end_runs_to_the_last_day() -> None:
    m = compute_metrics([], curve([100.0, 120.0, 90.0, 96.0, 100.0, 110.0]), 100.0)
    assert m["max_drawdown"] == pytest.approx(-0.25)
    assert m["max_drawdown_duration"] == 4


def test_undefined_figures_are_none_not_infinite() -> None:
    wins_only = [trade(1, 10.0, 0.01, 2), trade(2, 20.0, 0.02, 2)]
    m = compute_metrics(wins_only, curve([100.0, 100.0, 100.0]), 100.0)
    assert m["profit_factor"] is None
    assert m["avg_loss"] is None
    assert m["kelly"] is None
    assert m["sharpe"] is None  # flat equity: no volatility
    assert m["sortino"] is None
    assert m["calmar"] is None
    assert m["max_drawdown"] == 0.0
    assert m["probabilistic_sharpe"] is None


def test_probabilistic_sharpe_follows_bailey_and_lopez_de_prado() -> None:
    rng = np.random.default_rng(3)
    r = rng.standard_t(5, 500) * 0.01 + 0.0008
    sr = r.mean() / r.std(ddof=1)
    g3, g4 = stats.skew(r), stats.kurtosis(r, fisher=False)
    z = sr * math.sqrt(len(r) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert probabilistic_sharpe(r) == pytest.approx(stats.norm.cdf(z))
    centred = r - r.mean()
    assert probabilistic_sharpe(centred) == pytest.approx(0.5)
    more, less = probabilistic_sharpe(np.tile(r, 4)), probabilistic_sharpe(r)
    assert more is not None
    assert less is not None
    assert more > less  # the same Sharpe on more data is more probably real


def test_groups_hold_trade_figures_per_key_and_months_chain() -> None:
    by_symbol = group_metrics(TRADES, lambda t: t.symbol)
    assert list(by_symbol) == ["AAA", "BBB"]
    assert by_symbol["AAA"]["trades"] == 4
    assert by_symbol["AAA"]["net_profit"] == pytest.approx(225.0)
    assert by_symbol["BBB"]["win_rate"] == 1.0
    assert "sharpe" not in by_symbol["AAA"]
    by_reason = group_metrics(TRADES, lambda t: t.exit_reason)
    assert by_reason["stop"]["trades"] == 2
    eq = [
        EquityPoint(day=date(2024, 1, 2), equity=100.0, cash=100.0, exposure=0.0, benchmark=1.0),
        EquityPoint(day=date(2024, 1, 31), equity=110.0, cash=1.0, exposure=0.0, benchmark=1.0),
        EquityPoint(day=date(2024, 2, 15), equity=120.0, cash=1.0, exposure=0.0, benchmark=1.0),
        EquityPoint(day=date(2024, 2, 29), equity=99.0, cash=1.0, exposure=0.0, benchmark=1.0),
        EquityPoint(day=date(2024, 3, 1), equity=108.9, cash=1.0, exposure=0.0, benchmark=1.0),
    ]
    months = monthly_returns(eq)
    assert list(months) == ["2024-01", "2024-02", "2024-03"]
    assert months["2024-01"] == pytest.approx(0.1)
    assert months["2024-02"] == pytest.approx(-0.1)
    assert months["2024-03"] == pytest.approx(0.1)


@pytest.fixture(scope="module")
def real_run() -> BacktestResult:
    ds = load_builtin("megacaps-2013-2023").select(["AAPL", "NVDA", "AMZN"])
    return run_pipeline_backtest(ds, StrategyConfig(), start="2014-01-01", end="2019-12-31")


def test_sharpe_sortino_drawdown_and_sqn_equal_backtesting_py_on_a_real_curve(
    real_run: BacktestResult,
) -> None:
    from backtesting._stats import compute_stats  # backtesting.py's own statistics

    r = real_run
    assert len(r.trades) >= 30
    index = pd.DatetimeIndex([pd.Timestamp(p.day) for p in r.equity])
    equity = np.array([p.equity for p in r.equity])
    where = {d: i for i, d in enumerate(index.date)}
    trades = pd.DataFrame(
        {
            "Size": [t.quantity for t in r.trades],
            "EntryBar": [where[t.entry_ts.date()] for t in r.trades],
            "ExitBar": [where[t.exit_ts.date()] for t in r.trades],
            "EntryPrice": [t.entry_price for t in r.trades],
            "ExitPrice": [t.exit_price for t in r.trades],
            "PnL": [t.pnl for t in r.trades],
            "ReturnPct": [t.return_pct for t in r.trades],
            "EntryTime": [pd.Timestamp(t.entry_ts.date()) for t in r.trades],
            "ExitTime": [pd.Timestamp(t.exit_ts.date()) for t in r.trades],
        }
    )
    trades["Duration"] = trades["ExitTime"] - trades["EntryTime"]
    ohlc = pd.DataFrame({"Close": [p.benchmark for p in r.equity]}, index=index)
    with warnings.catch_warnings():  # its pandas deprecations are not ours
        warnings.simplefilter("ignore")
        theirs = compute_stats(trades, equity, ohlc, None, 0.0)
    m = r.metrics
    assert m["sharpe"] == pytest.approx(theirs["Sharpe Ratio"], rel=1e-9)
    assert m["sortino"] == pytest.approx(theirs["Sortino Ratio"], rel=1e-9)
    assert m["calmar"] == pytest.approx(theirs["Calmar Ratio"], rel=1e-9)
    assert m["max_drawdown"] == pytest.approx(theirs["Max. Drawdown [%]"] / 100, rel=1e-9)
    assert m["max_drawdown_duration"] == theirs["Max. Drawdown Duration"].days
    assert m["sqn"] == pytest.approx(theirs["SQN"], rel=1e-9)
    assert m["return_ann"] == pytest.approx(theirs["Return (Ann.) [%]"] / 100, rel=1e-9)
    assert m["volatility"] == pytest.approx(theirs["Volatility (Ann.) [%]"] / 100, rel=1e-9)
    assert m["cagr"] == pytest.approx(theirs["CAGR [%]"] / 100, rel=1e-9)
    assert m["total_return"] == pytest.approx(theirs["Return [%]"] / 100, rel=1e-9)
    assert m["buy_and_hold_return"] == pytest.approx(theirs["Buy & Hold Return [%]"] / 100)
    assert m["win_rate"] == pytest.approx(theirs["Win Rate [%]"] / 100)
    assert m["best_trade"] == pytest.approx(theirs["Best Trade [%]"] / 100)
    assert m["worst_trade"] == pytest.approx(theirs["Worst Trade [%]"] / 100)
    assert m["avg_trade_return"] == pytest.approx(theirs["Expectancy [%]"] / 100)
    assert m["geo_avg_trade_return"] == pytest.approx(theirs["Avg. Trade [%]"] / 100)
    assert m["kelly"] == pytest.approx(theirs["Kelly Criterion"])
    assert m["beta"] == pytest.approx(theirs["Beta"])
    assert m["alpha"] == pytest.approx(theirs["Alpha [%]"] / 100)
