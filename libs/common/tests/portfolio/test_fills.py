"""Paper fills, by hand: entry at the next open with slippage and commission, exits on stop,
target, gaps and time, the stop when both levels lie in one bar, and the cash after each.

The book holds 100,000; the signal (day 0) enters at 100, stop 96, target 106, and is
sized to 150 shares (the 15% weight cap). Commission is 0.1%, slippage 0.2%.
"""

from __future__ import annotations

import pytest

from swingflow_common.portfolio import Book, Cancellation, allocate, on_bar

from .factories import T0, bar, book_with, day, held, risk, signal

RISK = risk()
ENTRY = 101 * 1.002  # day 1 opens at 101, bought 0.2% above
ENTRY_COMMISSION = 150 * ENTRY * 0.001
CASH_AFTER_ENTRY = 100_000 - 150 * ENTRY - ENTRY_COMMISSION


def pending_book() -> Book:
    book, _ = allocate(signal(), Book.open(100_000), RISK)
    return book


def entered_book() -> Book:
    """The position bought at day 1's open (101), marked at its close (102)."""
    outcome = on_bar(pending_book(), bar(1, 101, 103, 100, 102), RISK)
    assert len(outcome.opened) == 1
    return outcome.book


def test_an_allocation_fills_at_the_next_open_plus_slippage_with_commission() -> None:
    outcome = on_bar(pending_book(), bar(1, 101, 103, 100, 102), RISK)

    (fill,) = outcome.fills
    assert (fill.side, fill.quantity, fill.ts) == ("buy", 150, day(1))
    assert fill.price == pytest.approx(101.202)
    assert fill.commission == pytest.approx(15.1803)
    assert fill.slippage == pytest.approx(150 * 0.202)
    assert fill.id == f"{signal().id}-buy"
    book = outcome.book
    assert book.pending == ()
    assert book.cash == pytest.approx(84_804.5197)
    (position,) = book.positions
    assert (position.quantity, position.last_price, position.bars_held) == (150, 102, 1)
    assert book.equity == pytest.approx(84_804.5197 + 150 * 102)
    assert book.peak_equity == pytest.approx(book.equity)


def test_nothing_fills_on_the_signal_bar_itself() -> None:
    outcome = on_bar(pending_book(), bar(0, 100, 101, 99, 100), RISK)

    assert outcome.fills == ()
    assert len(outcome.book.pending) == 1
    assert outcome.book.last_bar["AAPL"] == T0


def test_a_stop_inside_the_range_sells_at_the_stop_less_slippage() -> None:
    outcome = on_bar(entered_book(), bar(2, 101, 101.5, 95, 97), RISK)

    (fill,) = outcome.fills
    (trade,) = outcome.closed
    assert (fill.side, fill.reason, trade.exit_reason) == ("sell", "stop", "stop")
    assert fill.price == pytest.approx(96 * 0.998)  # 95.808
    assert fill.commission == pytest.approx(14.3712)
    assert fill.slippage == pytest.approx(150 * 0.192)
    assert outcome.book.positions == ()
    assert outcome.book.cash == pytest.approx(CASH_AFTER_ENTRY + 150 * 95.808 - 14.3712)
    # pnl = 150 x (96 - 101) - every cost (both commissions and both slippages)
    assert trade.costs == pytest.approx(15.1803 + 30.3 + 14.3712 + 28.8)
    assert trade.pnl == pytest.approx(150 * (96 - 101) - trade.costs)
    assert trade.pnl == pytest.approx(outcome.book.cash - 100_000)
    assert trade.return_pct == pytest.approx(trade.pnl / (150 * ENTRY))
    assert trade.bars_held == 2


def test_a_target_inside_the_range_sells_at_the_target_without_slippage() -> None:
    outcome = on_bar(entered_book(), bar(2, 102, 107, 100, 105), RISK)

    (fill,) = outcome.fills
    assert (fill.reason, fill.price, fill.slippage) == ("target", 106.0, 0.0)
    assert fill.commission == pytest.approx(150 * 106 * 0.001)
    (trade,) = outcome.closed
    assert trade.pnl == pytest.approx(150 * (106 - ENTRY) - ENTRY_COMMISSION - 15.9)


def test_a_gap_through_the_stop_sells_at_the_open() -> None:
    outcome = on_bar(entered_book(), bar(2, 94, 95, 92, 93), RISK)

    (fill,) = outcome.fills
    assert fill.reason == "stop_gap"
    assert fill.price == pytest.approx(94 * 0.998)  # worse than the stop: the open
    assert outcome.closed[0].exit_reason == "stop_gap"


def test_a_gap_through_the_target_sells_at_the_open() -> None:
    outcome = on_bar(entered_book(), bar(2, 108, 110, 107, 109), RISK)

    (fill,) = outcome.fills
    assert (fill.reason, fill.price) == ("target_gap", 108.0)


def test_when_stop_and_target_lie_in_one_bar_the_stop_is_taken() -> None:
    outcome = on_bar(entered_book(), bar(2, 101, 107, 95, 104), RISK)

    (fill,) = outcome.fills
    assert fill.reason == "stop"
    assert fill.price == pytest.approx(95.808)


def test_a_position_is_sold_at_the_close_after_max_bars_held() -> None:
    book = entered_book()  # day 1 is bar 1 of 3
    book = on_bar(book, bar(2, 102, 103, 101, 102.5), RISK).book
    assert book.positions[0].bars_held == 2

    outcome = on_bar(book, bar(3, 102.5, 104, 101, 103), RISK)

    (fill,) = outcome.fills
    assert fill.reason == "time"
    assert fill.price == pytest.approx(103 * 0.998)
    assert outcome.closed[0].bars_held == 3


def test_the_entry_bar_can_stop_the_position_out_after_the_open() -> None:
    outcome = on_bar(pending_book(), bar(1, 101, 102, 95.5, 96.5), RISK)

    assert [f.side for f in outcome.fills] == ["buy", "sell"]
    assert outcome.fills[1].reason == "stop"
    assert len(outcome.opened) == len(outcome.closed) == 1
    assert outcome.book.positions == ()


def test_an_open_beyond_the_stop_cancels_the_allocation() -> None:
    outcome = on_bar(pending_book(), bar(1, 95, 97, 94, 96), RISK)

    assert outcome.fills == ()
    (cancel,) = outcome.cancelled
    assert isinstance(cancel, Cancellation)
    assert cancel.reason == "opened_beyond_levels"
    assert outcome.book.pending == ()
    assert outcome.book.available_cash == outcome.book.cash == 100_000


def test_a_gap_up_buys_only_what_the_reserved_cash_pays_for() -> None:
    # 15,015 of cash, all of it reserved for 150 shares at 100; day 1 opens at 110 (target 120)
    book, _ = allocate(signal(target=120), book_with(15_015, held("MSFT", 850, 100.0)), RISK)
    assert book.available_cash == pytest.approx(0.0, abs=1e-6)

    outcome = on_bar(book, bar(1, 110, 112, 109, 111), RISK)

    (fill,) = outcome.fills
    # 110 x 1.002 = 110.22 a share, 110.33022 with commission: 15,015 buys 136
    assert fill.quantity == 136
    assert "136 of 150" in fill.reason
    assert outcome.book.cash == pytest.approx(15_015 - 136 * 110.22 * 1.001)
    assert outcome.book.cash >= 0


def test_a_repeated_or_older_bar_changes_nothing() -> None:
    book = entered_book()

    assert on_bar(book, bar(1, 101, 103, 100, 102), RISK).book == book
    assert on_bar(book, bar(0, 1, 1, 1, 1), RISK).book == book


def test_bars_of_other_symbols_leave_a_position_alone() -> None:
    book = entered_book()

    outcome = on_bar(book, bar(2, 50, 51, 10, 20, symbol="MSFT"), RISK)

    assert outcome.fills == ()
    assert outcome.book.positions == book.positions
    assert outcome.book.last_bar["MSFT"] == day(2)


def test_drawdown_is_read_against_the_peak_equity() -> None:
    book = entered_book()  # peak: marked at 102
    peak = book.peak_equity

    after = on_bar(book, bar(2, 101, 101.5, 98, 99), RISK).book  # marked at 99

    assert after.peak_equity == peak
    assert after.equity == pytest.approx(peak - 150 * 3)
    assert after.drawdown == pytest.approx(150 * 3 / peak)
