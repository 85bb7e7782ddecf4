"""The engine's fill rules on hand-made bars, with numbers a reader can check by hand.

A signal at day 0's close enters at 100 with its stop at 96 and target at 106 (ATR 2).
Costs: commission 10 bps, slippage 20 bps. Sizing: 1% risk of 100,000 over 4 per share
allows 250 shares, 15% max weight allows 150, so every trade buys 150 shares.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from swingflow_common.backtest.bars import BarIndex, ns_index
from swingflow_common.backtest.simulate import Order, Simulation, simulate
from swingflow_common.config import RiskSettings
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import ConfirmedSignal, StageScore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
QTY = 150.0


def risk(**overrides: float) -> RiskSettings:
    values: dict[str, float] = {
        "risk_per_trade": 0.01, "max_positions": 3, "max_weight_per_symbol": 0.15,
        "initial_cash": 100_000.0, "commission_bps": 10.0, "slippage_bps": 20.0,
        "max_bars_held": 3,
    }  # fmt: skip
    values.update(overrides)
    return RiskSettings.model_validate(values)


def signal(symbol: str = "AAA", *, day: int = 0, total: float = 0.8) -> ConfirmedSignal:
    ts = T0 + timedelta(days=day)
    stages = tuple(
        StageScore(stage=name, score=0.8, passed=True, reason="test")
        for name in ("base_signal", "confirmation", "ml_confidence", "entry_timing")
    )
    return ConfirmedSignal(
        id=f"{symbol}-{day}", symbol=symbol, ts=ts, setup="trend_pullback", entry=100.0,
        stop=96.0, target=106.0, stages=stages,
        weights={"base_signal": 0.3, "confirmation": 0.25, "ml_confidence": 0.25,
                 "entry_timing": 0.2},
        total=total, threshold=0.6, reason="test", ts_event=ts,
    )  # fmt: skip


def dataset(rows: dict[str, list[tuple[float, float, float, float]]]) -> Dataset:
    """Daily bars from day 0 on; each row is (open, high, low, close)."""
    bars = {}
    for symbol, ohlc in rows.items():
        index = pd.DatetimeIndex([T0 + timedelta(days=i) for i in range(len(ohlc))], name="ts")
        frame = pd.DataFrame(ohlc, columns=["open", "high", "low", "close"], index=index)
        frame["volume"] = 1e6
        bars[symbol] = frame
    return Dataset("hand-made", bars, "raw")


def run(
    rows: dict[str, list[tuple[float, float, float, float]]],
    orders: list[Order],
    r: RiskSettings | None = None,
    **kwargs: object,
) -> Simulation:
    ds = dataset(rows)
    sessions = np.unique(np.concatenate([ns_index(f.index) for f in ds.bars.values()]))
    by_session: dict[int, list[Order]] = {}
    for o in orders:
        by_session.setdefault(int(pd.Timestamp(o.signal.ts).value), []).append(o)
    return simulate(BarIndex(ds), sessions, by_session, r or risk(), **kwargs)  # type: ignore[arg-type]


FLAT = (100.0, 101.0, 99.0, 100.0)


def test_a_gap_through_the_stop_sells_at_the_open_less_slippage_with_costs_in_pnl() -> None:
    sim = run({"AAA": [FLAT, FLAT, (95.0, 95.5, 94.0, 95.0), FLAT]}, [Order(signal(), 2.0)])
    (t,) = sim.trades
    buy, sell = 100.0 * 1.002, 95.0 * 0.998
    fees = QTY * buy * 0.001 + QTY * sell * 0.001
    assert t.entry_price == pytest.approx(buy)
    assert t.exit_price == pytest.approx(sell)
    assert t.exit_reason == "stop"
    assert t.entry_ts == T0 + timedelta(days=1)
    assert t.exit_ts == T0 + timedelta(days=2)
    assert t.quantity == QTY
    assert t.bars_held == 2
    assert t.fees == pytest.approx(fees)
    assert t.slippage == pytest.approx(QTY * (buy - 100.0) + QTY * (95.0 - sell))
    assert t.pnl == pytest.approx(QTY * (sell - buy) - fees)
    assert t.r_multiple == pytest.approx(t.pnl / (QTY * (buy - 96.0)))
    assert sim.equity[-1][0] == pytest.approx(100_000.0 + t.pnl)


def test_stop_and_target_inside_one_bar_take_the_stop() -> None:
    sim = run({"AAA": [FLAT, (100.0, 107.0, 95.0, 101.0), FLAT]}, [Order(signal(), 2.0)])
    (t,) = sim.trades
    assert t.exit_reason == "stop"
    assert t.exit_price == pytest.approx(96.0 * 0.998)
    assert t.bars_held == 1  # stopped on the entry bar itself, after its open


def test_a_target_inside_the_range_fills_at_the_level_without_slippage() -> None:
    sim = run({"AAA": [FLAT, FLAT, (101.0, 106.5, 100.5, 104.0), FLAT]}, [Order(signal(), 2.0)])
    (t,) = sim.trades
    assert t.exit_reason == "target"
    assert t.exit_price == 106.0
    assert t.slippage == pytest.approx(QTY * 100.0 * 0.002)  # the entry's only


def test_a_position_is_sold_at_the_close_after_max_bars_held() -> None:
    rows = [FLAT, FLAT, FLAT, (100.0, 101.0, 99.0, 100.5), FLAT, FLAT]
    (t,) = run({"AAA": rows}, [Order(signal(), 2.0)]).trades
    assert t.exit_reason == "time"
    assert t.bars_held == 3
    assert t.exit_ts == T0 + timedelta(days=3)
    assert t.exit_price == pytest.approx(100.5 * 0.998)


def test_a_position_open_at_the_end_is_sold_at_the_last_close() -> None:
    (t,) = run({"AAA": [FLAT, FLAT, (100.0, 101.0, 99.0, 100.8)]}, [Order(signal(), 2.0)]).trades
    assert t.exit_reason == "end_of_data"
    assert t.exit_price == pytest.approx(100.8 * 0.998)
    assert t.fees == pytest.approx(QTY * 100.2 * 0.001 + QTY * t.exit_price * 0.001)


def test_entry_at_the_close_fills_on_the_signal_bar() -> None:
    sim = run({"AAA": [FLAT, FLAT, FLAT, FLAT, FLAT]}, [Order(signal(), 2.0)], entry="close")
    (t,) = sim.trades
    assert t.entry_ts == T0
    assert t.entry_price == pytest.approx(100.0 * 1.002)
    assert t.exit_reason == "time"
    assert t.exit_ts == T0 + timedelta(days=2)


def test_slippage_as_a_fraction_of_atr_replaces_the_bps() -> None:
    sim = run({"AAA": [FLAT, FLAT, (95.0, 95.5, 94.0, 95.0)]}, [Order(signal(), 2.0)],
              slippage_atr=0.25)  # fmt: skip
    (t,) = sim.trades
    assert t.entry_price == pytest.approx(100.5)
    assert t.exit_price == pytest.approx(94.5)
    assert t.slippage == pytest.approx(QTY * 0.5 * 2)


def test_no_signal_fills_on_its_own_bar_and_an_open_beyond_the_levels_cancels() -> None:
    sim = run({"AAA": [FLAT, (107.0, 108.0, 106.5, 107.0), FLAT]}, [Order(signal(), 2.0)])
    assert sim.trades == []
    assert sim.rejected["cancelled_opened_beyond_levels"] == 1
    assert all(e == 100_000.0 for e, _, _ in sim.equity)


def test_max_positions_takes_the_best_signals_first() -> None:
    rows = {s: [FLAT, FLAT, FLAT] for s in ("AAA", "BBB", "CCC")}
    orders = [
        Order(signal(s, total=tot), 2.0) for s, tot in (("BBB", 0.9), ("AAA", 0.7), ("CCC", 0.8))
    ]
    orders.sort(key=lambda o: -o.signal.total)  # the engine offers the best total first
    sim = run(rows, orders, risk(max_positions=2))
    assert sorted(t.symbol for t in sim.trades) == ["BBB", "CCC"]
    assert sim.rejected["max_positions"] == 1


def test_cash_and_weight_limits_hold_on_every_session() -> None:
    rows = {s: [FLAT] * 6 for s in ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH")}
    orders = [Order(signal(s), 2.0) for s in rows]
    sim = run(rows, orders, risk(max_positions=8, max_weight_per_symbol=0.3, risk_per_trade=0.1))
    # up to 300 shares (30%) each for three (fewer where slippage outran the reserved
    # cash), then what the remaining cash buys, then nothing
    assert sorted(t.quantity for t in sim.trades) == [99.0, 299.0, 299.0, 300.0]
    assert sim.rejected["insufficient_cash"] == 4
    assert all(c >= 0 for _, c, _ in sim.equity)
    assert all(t.quantity * t.entry_price <= 0.3 * 100_000.0 * 1.0021 for t in sim.trades)


def test_a_symbol_whose_data_end_is_sold_on_its_last_bar() -> None:
    rows = {"AAA": [FLAT, FLAT, (100.0, 101.0, 99.0, 99.5)], "BBB": [FLAT] * 6}
    sim = run(rows, [Order(signal(), 2.0)], risk(max_bars_held=10))
    (t,) = sim.trades
    assert t.exit_reason == "end_of_data"
    assert t.exit_ts == T0 + timedelta(days=2)
    assert len(sim.equity) == 6
    assert sim.equity[-1][2] == 0.0
