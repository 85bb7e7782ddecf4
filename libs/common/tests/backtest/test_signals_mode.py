"""The signal-driven mode's fill rules, each on a few hand-made bars whose prices can be
checked by hand (the same rules as portfolio.fills: next-open entry, stop/target at the
level or the open on a gap, the stop when both lie in one bar, time exit at the close)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.backtest.result import BacktestResult
from swingflow_common.backtest.signals_kernel import REASONS
from swingflow_common.backtest.signals_mode import (
    SignalOptions,
    SignalTable,
    run_signal_backtest,
    simulate_arrays,
)
from swingflow_common.config import RiskSettings
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import Bar
from swingflow_common.portfolio.book import Position
from swingflow_common.portfolio.fills import exit_fill

# (open, high, low, close) rows; one symbol unless a test stacks several
FLAT = [(100.0, 101.0, 99.0, 100.0)] * 8


def bars(rows: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, ...]:
    a = np.array(rows, dtype=np.float64)
    return tuple(a[:, k : k + 1].copy() for k in range(4))


def flags(n: int, *at: int) -> np.ndarray:
    out = np.zeros((n, 1), dtype=np.bool_)
    out[list(at), 0] = True
    return out


def run(rows: list[tuple[float, float, float, float]], entries: tuple[int, ...],
        exits: tuple[int, ...] = (), **options: Any) -> Any:  # fmt: skip
    o, h, lo, c = bars(rows)
    n = len(rows)
    return simulate_arrays(o, h, lo, c, flags(n, *entries), flags(n, *exits), **options)


def test_entry_fills_at_next_open_with_slippage_and_commission_on_both_sides() -> None:
    rows = [*FLAT[:2], (102.0, 103.0, 101.0, 102.5), *FLAT[:3]]
    sim = run(rows, (1,), (3,), commission_bps=10, slippage_bps=20, size=10)
    assert sim.entry_bar.tolist() == [2]
    assert sim.signal_bar.tolist() == [1]
    assert sim.entry_price[0] == pytest.approx(102.0 * 1.002)
    assert sim.exit_bar.tolist() == [4]  # exit signal at 3's close -> 4's open
    assert sim.exit_price[0] == pytest.approx(100.0 * 0.998)
    assert sim.reason.tolist() == [3]  # exit_signal
    fees = 10 * 102.0 * 1.002 * 0.001 + 10 * 100.0 * 0.998 * 0.001
    assert sim.fees[0] == pytest.approx(fees)
    assert sim.slippage[0] == pytest.approx(10 * (102.0 * 0.002 + 100.0 * 0.002))
    assert sim.pnl[0] == pytest.approx(10 * (100.0 * 0.998 - 102.0 * 1.002) - fees)


def test_entry_at_close_fills_at_the_signal_bar_close() -> None:
    rows = [*FLAT[:2], (100.0, 101.0, 99.0, 100.5), *FLAT[:3]]
    sim = run(rows, (2,), (4,), entry="close")
    assert sim.entry_bar.tolist() == [2]
    assert sim.entry_price.tolist() == [100.5]
    assert sim.exit_bar.tolist() == [4]  # an exit signal fills at its own close too
    assert sim.exit_price.tolist() == [100.0]


def test_stop_inside_the_range_fills_at_the_stop_less_slippage() -> None:
    rows = [*FLAT[:2], (99.0, 99.5, 91.0, 95.0), *FLAT[:2]]
    sim = run(rows, (0,), stop_pct=0.05, slippage_bps=10)
    paid = 100.0 * 1.001
    stop = paid * 0.95
    assert sim.stop[0] == pytest.approx(stop)
    assert (sim.exit_bar[0], sim.reason[0]) == (2, 0)
    assert sim.exit_price[0] == pytest.approx(stop * 0.999)


def test_gap_through_the_stop_fills_at_the_open() -> None:
    rows = [*FLAT[:2], (90.0, 92.0, 89.0, 91.0), *FLAT[:2]]
    sim = run(rows, (0,), stop_pct=0.05)
    assert (sim.exit_bar[0], sim.reason[0], sim.exit_price[0]) == (2, 0, 90.0)


def test_target_is_a_limit_order_at_its_level_without_slippage() -> None:
    rows = [*FLAT[:2], (101.0, 112.0, 100.5, 111.0), *FLAT[:2]]
    sim = run(rows, (0,), target_pct=0.10, slippage_bps=10)
    target = 100.0 * 1.001 * 1.10
    assert (sim.exit_bar[0], sim.reason[0]) == (2, 1)
    assert sim.exit_price[0] == pytest.approx(target)
    assert sim.slippage[0] == pytest.approx(100.0 * 0.001)  # the entry's only


def test_gap_through_the_target_fills_at_the_open() -> None:
    rows = [*FLAT[:2], (115.0, 116.0, 114.0, 115.0), *FLAT[:2]]
    sim = run(rows, (0,), target_pct=0.10)
    assert (sim.reason[0], sim.exit_price[0]) == (1, 115.0)


def test_stop_and_target_in_one_bar_take_the_stop() -> None:
    rows = [*FLAT[:2], (100.0, 120.0, 80.0, 100.0), *FLAT[:2]]
    sim = run(rows, (0,), stop_pct=0.05, target_pct=0.05)
    assert (sim.reason[0], sim.exit_price[0]) == (0, pytest.approx(95.0))


def test_stop_is_live_on_the_entry_bar_from_its_open() -> None:
    rows = [FLAT[0], (100.0, 100.5, 90.0, 92.0), *FLAT[:2]]
    sim = run(rows, (0,), stop_pct=0.05)
    assert (sim.entry_bar[0], sim.exit_bar[0], sim.bars_held[0]) == (1, 1, 1)
    assert sim.exit_price[0] == pytest.approx(95.0)


def test_time_exit_at_the_close_after_max_bars_the_entry_bar_counting_one() -> None:
    rows = [(100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i) for i in range(8)]
    sim = run(rows, (0,), max_bars_held=3)
    assert (sim.entry_bar[0], sim.exit_bar[0], sim.bars_held[0], sim.reason[0]) == (1, 3, 3, 2)
    assert sim.exit_price[0] == 103.5
    closing = run(rows, (0,), max_bars_held=3, entry="close")
    # entered at bar 0's close, exposed from bar 1: three bars later, at 3's close
    assert (closing.entry_bar[0], closing.exit_bar[0], closing.bars_held[0]) == (0, 3, 3)


def test_entry_signal_while_holding_or_with_an_exit_on_the_same_bar_is_ignored() -> None:
    sim = run(FLAT, (0, 2, 5), (3, 5))
    # 0 -> in at 1; 2 ignored (held); exit at 3 -> out at 4; 5 has entry and exit: ignored
    assert sim.entry_bar.tolist() == [1]
    assert sim.exit_bar.tolist() == [4]


def test_reentry_after_a_stop_on_the_same_bar_fills_at_the_next_open() -> None:
    rows = [FLAT[0], FLAT[0], (100.0, 100.5, 90.0, 92.0), (93.0, 94.0, 92.0, 93.0), FLAT[0]]
    sim = run(rows, (0, 2), stop_pct=0.05)
    assert sim.entry_bar.tolist() == [1, 3]
    assert sim.reason.tolist() == [0, 4]  # the second one lasts to the end of the data


def test_an_exit_signal_fills_at_the_open_before_the_stop_is_looked_at() -> None:
    rows = [FLAT[0], FLAT[0], FLAT[0], (97.0, 98.0, 80.0, 81.0), FLAT[0]]
    sim = run(rows, (0,), (2,), stop_pct=0.05)
    assert (sim.exit_bar[0], sim.reason[0], sim.exit_price[0]) == (3, 3, 97.0)


def test_position_open_at_the_last_bar_closes_at_its_close() -> None:
    sim = run(FLAT[:4], (1,))
    assert (sim.exit_bar[0], sim.reason[0], sim.exit_price[0]) == (3, 4, 100.0)
    # an entry signal on the last bar has no next open: no trade
    assert len(run(FLAT[:4], (3,)).pnl) == 0


def test_missing_bars_are_skipped_and_symbols_trade_independently() -> None:
    rows = [(100.0 + i, 101.0 + i, 99.0 + i, 100.0 + i) for i in range(6)]
    o, h, lo, c = bars(rows)
    o2, h2, lo2, c2 = (np.hstack([a, a]) for a in (o, h, lo, c))
    for a in (o2, h2, lo2, c2):
        a[1, 1] = np.nan  # no bar for the second symbol on day 1
    ent = np.zeros((6, 2), np.bool_)
    ent[0, :] = True
    sim = simulate_arrays(o2, h2, lo2, c2, ent, np.zeros_like(ent), max_bars_held=2)
    by_col = dict(
        zip(
            sim.column.tolist(),
            zip(sim.entry_bar.tolist(), sim.exit_bar.tolist(), strict=True),
            strict=True,
        )
    )
    assert by_col == {0: (1, 2), 1: (2, 3)}  # the second waits for its next bar


def test_sizing_fixed_cash_rounds_down_and_equity_fraction_reads_the_previous_close() -> None:
    sim = run(FLAT, (0,), (2,), sizing="fixed_cash", size=1_050.0, commission_bps=10)
    assert sim.quantity.tolist() == [10.0]  # 1050 / (100 x 1.001) = 10.49
    fractional = run(FLAT, (0,), (2,), sizing="fixed_cash", size=1_000.0, whole_shares=False)
    assert fractional.quantity[0] == pytest.approx(10.0)
    sized = run(FLAT, (0,), (2,), sizing="equity_fraction", size=0.5, initial_cash=10_000.0)
    assert sized.quantity.tolist() == [50.0]
    assert sized.cash[1] == pytest.approx(10_000.0 - 50 * 100.0)
    assert sized.positions_value[1] == pytest.approx(50 * 100.0)


def test_atr_levels_come_from_the_signal_bar_and_wait_for_its_warm_up() -> None:
    rows = FLAT[:6]
    o, h, lo, c = bars(rows)
    atr = np.full_like(o, 2.0)
    atr[0, 0] = np.nan
    sim = simulate_arrays(o, h, lo, c, flags(6, 0, 1), flags(6), atr=atr, stop_atr=1.5,
                          target_atr=3.0)  # fmt: skip
    assert sim.entry_bar.tolist() == [2]  # the bar-0 signal had no ATR yet
    assert sim.stop[0] == pytest.approx(97.0)
    assert sim.target[0] == pytest.approx(106.0)
    with pytest.raises(ValueError, match="atr"):
        simulate_arrays(o, h, lo, c, flags(6, 0), flags(6), stop_atr=1.5)


def test_atr_slippage_replaces_bps_with_the_signal_bars_atr_on_every_market_fill() -> None:
    rows = [*FLAT[:3], (99.0, 99.5, 90.0, 95.0), FLAT[0]]
    o, h, lo, c = bars(rows)
    atr = np.full_like(o, 2.0)
    atr[1:, 0] = 4.0  # later ATRs do not matter: the signal bar's is used
    sim = simulate_arrays(o, h, lo, c, flags(5, 0), flags(5), atr=atr, stop_pct=0.05,
                          slippage_bps=50, slippage_atr=0.25)  # fmt: skip
    assert sim.entry_price[0] == pytest.approx(100.0 + 0.5)
    assert sim.exit_price[0] == pytest.approx(100.5 * 0.95 - 0.5)
    assert sim.slippage[0] == pytest.approx(1.0)


def test_options_refuse_two_stops() -> None:
    with pytest.raises(ValueError, match="not both"):
        SignalOptions(stop_pct=0.05, stop_atr=2.0)


def _dataset() -> Dataset:
    index = pd.date_range("2024-01-01", periods=8, freq="D", tz="UTC", name="ts")
    frame = pd.DataFrame(FLAT, index=index, columns=["open", "high", "low", "close"])
    frame["volume"] = 1_000.0
    up = frame * np.linspace(1.0, 1.07, 8)[:, None]
    return Dataset("toy", {"AAA": frame, "BBB": up}, "raw")


def test_run_gives_a_signal_mode_result_with_contract_trades() -> None:
    ds = _dataset()
    days = ds.dates
    entries = pd.DataFrame({"BBB": [True] + [False] * 7}, index=days)
    exits = pd.DataFrame({"BBB": [False] * 4 + [True] + [False] * 3}, index=days)
    seen: list[tuple[str, int, int]] = []
    result = run_signal_backtest(
        ds, SignalTable.from_frames(entries, exits),
        SignalOptions(sizing="fixed_quantity", size=10, commission_bps=0, slippage_bps=0),
        progress=lambda stage, done, total: seen.append((stage, done, total)), run_id="r1",
    )  # fmt: skip
    assert (result.id, result.mode, result.symbols) == ("r1", "signals", ("BBB",))
    (trade,) = result.trades
    assert BacktestResult.model_validate_json(result.model_dump_json()) == result
    assert (trade.setup, trade.base_signal, trade.total) == ("signal", None, None)
    assert trade.entry_ts == days[1]
    assert trade.exit_ts == days[5]
    assert trade.entry_price == pytest.approx(100.0 * 1.01)
    assert trade.exit_reason == "exit_signal"
    assert len(result.equity) == 8
    assert result.equity[-1].equity == pytest.approx(100_000.0 + trade.pnl)
    assert result.equity[-1].benchmark == pytest.approx(100_000.0 * 1.07)  # BBB's buy-and-hold
    assert result.equity[2].exposure == pytest.approx(10 * 100.0 * 1.02 / result.equity[2].equity)
    assert seen[-1] == ("report", 3, 3)


def test_run_refuses_a_signal_on_a_day_without_a_bar() -> None:
    ds = _dataset()
    entries = pd.DataFrame({"AAA": [True]}, index=pd.DatetimeIndex(["2024-02-01"], tz="UTC"))
    with pytest.raises(ValueError, match="AAA on 2024-02-01: no bar"):
        run_signal_backtest(ds, SignalTable.from_frames(entries), SignalOptions())


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[float, float, float, float]]:
    """A few random daily bars around 100 (gaps, wide and narrow ranges)."""
    n = draw(st.integers(2, 12))
    rows = []
    price = 100.0
    for _ in range(n):
        o = price * draw(st.floats(0.85, 1.15))
        c = o * draw(st.floats(0.9, 1.1))
        h = max(o, c) * draw(st.floats(1.0, 1.08))
        lo = min(o, c) * draw(st.floats(0.92, 1.0))
        rows.append((o, h, lo, c))
        price = c
    return rows


@settings(max_examples=200, deadline=None)
@given(walks(), st.floats(0.01, 0.12), st.floats(0.01, 0.2), st.integers(1, 6))
def test_exits_match_paper_tradings_fill_rules(
    rows: list[tuple[float, float, float, float]], stop: float, target: float, max_bars: int
) -> None:
    """The kernel's exit is the one portfolio.fills gives the same position, bar by bar."""
    cost: dict[str, Any] = {"commission_bps": 5.0, "slippage_bps": 10.0}
    sim = run([FLAT[0], *rows], (0,), stop_pct=stop, target_pct=target, max_bars_held=max_bars,
              **cost)  # fmt: skip
    risk = RiskSettings(max_bars_held=max_bars, **cost)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    paid = float(sim.entry_price[0])
    position = Position(
        symbol="AAA", allocation_id="a", signal_id="s", quantity=1.0, entry_ts=t0,
        entry_price=paid, entry_commission=0.0, entry_slippage=0.0, stop=paid * (1 - stop),
        target=paid * (1 + target), bars_held=0, last_price=paid, last_ts=t0,
    )  # fmt: skip
    for i, (o, h, lo, c) in enumerate(rows, start=1):
        bar = Bar(symbol="AAA", ts=t0 + timedelta(days=i), open=o, high=h, low=lo, close=c,
                  volume=1.0)  # fmt: skip
        position = position.model_copy(update={"bars_held": position.bars_held + 1})
        found = exit_fill(position, bar, risk)
        if found is not None:
            fill, reason = found
            assert sim.exit_bar[0] == i
            assert REASONS[sim.reason[0]] == reason.removesuffix("_gap")
            assert sim.exit_price[0] == pytest.approx(fill.price, rel=1e-12)
            return
    assert REASONS[sim.reason[0]] == "end_of_data"  # paper trading would still hold it
