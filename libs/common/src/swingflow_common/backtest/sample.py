"""A small hand-built `BacktestResult`, for the tests of what consumes one (exports,
storage, API, dashboard), not an engine and never shown as a result.

Its parts agree with each other (each trade's P&L follows from its prices, quantity and
costs; the equity curve adds the P&L up on exit days; the breakdowns count the trades),
so a consumer's test can check what it derives against the trades themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from swingflow_common.backtest.result import (
    BacktestResult,
    BacktestTrade,
    EquityPoint,
    ExitReason,
    Metrics,
    Mode,
    WindowResult,
)

_START = date(2024, 1, 2)
_TRADES: tuple[tuple[str, str, int, int, float, float, ExitReason], ...] = (
    # symbol, setup, entry day, exit day, entry price, exit price, exit reason
    ("AAPL", "trend_pullback", 3, 9, 100.0, 110.0, "target"),
    ("MSFT", "breakout_volume", 5, 8, 200.0, 190.0, "stop"),
    ("AAPL", "breakout_volume", 20, 40, 112.0, 118.0, "time"),
    ("NVDA", "trend_pullback", 35, 50, 50.0, 47.5, "stop"),
    ("MSFT", "macd_cross", 45, 58, 195.0, 205.0, "end_of_data"),
)


def _ts(day_index: int) -> datetime:
    day = _START + timedelta(days=day_index)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def sample_trades(mode: Mode = "pipeline", fee_rate: float = 0.001) -> tuple[BacktestTrade, ...]:
    """Five closed trades over three symbols, three setups and four exit reasons."""
    trades = []
    for seq, (symbol, setup, entry_day, exit_day, entry, exit_, reason) in enumerate(_TRADES):
        quantity = 10.0
        stop = entry * 0.95
        fees = fee_rate * quantity * (entry + exit_)
        slippage = 0.0005 * quantity * (entry + exit_)
        pnl = (exit_ - entry) * quantity - fees - slippage
        scored = mode == "pipeline"
        trades.append(
            BacktestTrade(
                seq=seq,
                symbol=symbol,
                setup=setup,
                signal_id=f"{symbol}-{setup}-{entry_day}" if scored else None,
                signal_ts=_ts(entry_day - 1),
                entry_ts=_ts(entry_day),
                entry_price=entry,
                exit_ts=_ts(exit_day),
                exit_price=exit_,
                exit_reason=reason,
                quantity=quantity,
                stop=stop,
                target=entry * 1.1,
                fees=fees,
                slippage=slippage,
                pnl=pnl,
                return_pct=pnl / (quantity * entry),
                r_multiple=pnl / (quantity * (entry - stop)),
                bars_held=exit_day - entry_day,
                base_signal=0.7 if scored else None,
                confirmation=0.6 if scored else None,
                ml_confidence=0.5 if scored else None,
                entry_timing=0.8 if scored else None,
                total=0.655 if scored else None,
            )
        )
    return tuple(trades)


def _equity(trades: Sequence[BacktestTrade], cash: float, days: int) -> tuple[EquityPoint, ...]:
    points = []
    equity = cash
    for index in range(days):
        day = _START + timedelta(days=index)
        equity += sum(t.pnl for t in trades if t.exit_ts.date() == day)
        open_value = sum(
            t.quantity * t.entry_price
            for t in trades
            if t.entry_ts.date() <= day < t.exit_ts.date()
        )
        points.append(
            EquityPoint(
                day=day,
                equity=equity,
                cash=equity - open_value,
                exposure=min(1.0, open_value / equity),
                benchmark=cash * (1.0 + 0.002 * index),
            )
        )
    return tuple(points)


def _breakdown(trades: Sequence[BacktestTrade], key: str) -> dict[str, Metrics]:
    groups: dict[str, list[BacktestTrade]] = {}
    for trade in trades:
        groups.setdefault(str(getattr(trade, key)), []).append(trade)
    return {
        name: {
            "trades": float(len(group)),
            "win_rate": sum(t.pnl > 0 for t in group) / len(group),
            "net_profit": sum(t.pnl for t in group),
        }
        for name, group in sorted(groups.items())
    }


def sample_result(
    run_id: str = "bt-sample",
    *,
    mode: Mode = "pipeline",
    walk_forward: bool = False,
    created_at: datetime | None = None,
    initial_cash: float = 100_000.0,
) -> BacktestResult:
    """A run of the five sample trades over 60 days, with metrics, breakdowns and months."""
    trades = sample_trades(mode)
    equity = _equity(trades, initial_cash, 60)
    final = equity[-1].equity
    wins = [t for t in trades if t.pnl > 0]
    metrics: Metrics = {
        "total_return": final / initial_cash - 1.0,
        "trades": float(len(trades)),
        "win_rate": len(wins) / len(trades),
        "profit_factor": None,  # undefined figures are None, as the engine gives them
        "sharpe": 1.25,
        "max_drawdown": -0.02,
        "buy_and_hold_return": equity[-1].benchmark / initial_cash - 1.0,
    }
    monthly: dict[str, float] = {}
    previous = initial_cash
    for point, after in zip(equity, (*equity[1:], None), strict=True):
        if after is None or after.day.month != point.day.month:
            monthly[point.day.strftime("%Y-%m")] = point.equity / previous - 1.0
            previous = point.equity
    windows: tuple[WindowResult, ...] = ()
    if walk_forward:
        windows = tuple(
            WindowResult(
                index=i,
                in_sample_start=_START + timedelta(days=30 * i),
                in_sample_end=_START + timedelta(days=30 * i + 19),
                out_of_sample_start=_START + timedelta(days=30 * i + 20),
                out_of_sample_end=_START + timedelta(days=30 * i + 29),
                in_sample={"total_return": 0.03 + 0.01 * i, "sharpe": 1.5},
                out_of_sample={"total_return": 0.01 - 0.005 * i, "sharpe": None},
            )
            for i in range(2)
        )
    return BacktestResult(
        id=run_id,
        mode=mode,
        dataset="sample",
        symbols=("AAPL", "MSFT", "NVDA"),
        start=_START,
        end=equity[-1].day,
        created_at=created_at or datetime(2024, 3, 5, 12, 0, tzinfo=UTC),
        config={"risk": {"initial_cash": initial_cash}, "note": "<sample & test>"},
        initial_cash=initial_cash,
        trades=trades,
        equity=equity,
        metrics=metrics,
        by_symbol=_breakdown(trades, "symbol"),
        by_setup=_breakdown(trades, "setup"),
        by_exit_reason=_breakdown(trades, "exit_reason"),
        monthly=monthly,
        walk_forward=windows,
        candidates=12 if mode == "pipeline" else 0,
        confirmed=5 if mode == "pipeline" else 0,
        rejected={"max_positions": 1},
    )
