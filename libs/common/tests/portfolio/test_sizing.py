"""Risk-based sizing: quantity from the risk budget, capped by weight and cash; rejections."""

from __future__ import annotations

import pytest

from swingflow_common.messages import Allocation
from swingflow_common.portfolio import Book, Rejection, allocate, mark, size

from .factories import T0, book_with, day, held, risk, signal


def sized(decision: Allocation | Rejection) -> Allocation:
    assert isinstance(decision, Allocation), decision
    return decision


def rejected(decision: Allocation | Rejection) -> Rejection:
    assert isinstance(decision, Rejection), decision
    return decision


def test_quantity_is_the_risk_budget_over_the_stop_distance() -> None:
    # equity 100,000 x 1% = 1,000 at risk; 4 per share -> 250 shares (weight cap 50% = 500)
    allocation = sized(size(signal(), Book.open(100_000), risk(max_weight_per_symbol=0.5)))

    assert allocation.quantity == 250
    assert allocation.risk_amount == pytest.approx(1_000.0)
    assert allocation.weight == pytest.approx(0.25)
    # reserved: 250 x 100 x 1.001 = 25,025
    assert allocation.cash_after == pytest.approx(100_000 - 25_025)
    assert (allocation.price, allocation.stop, allocation.target) == (100.0, 96.0, 106.0)
    assert allocation.id == allocation.signal_id == signal().id
    assert "bound by risk" in allocation.reason


def test_quantity_is_capped_by_the_weight_per_symbol() -> None:
    # 15% of 100,000 / 100 = 150 shares, below the 250 the risk budget allows
    allocation = sized(size(signal(), Book.open(100_000), risk()))

    assert allocation.quantity == 150
    assert allocation.risk_amount == pytest.approx(150 * 4.0)
    assert allocation.weight == pytest.approx(0.15)
    assert "bound by weight" in allocation.reason


def test_quantity_is_capped_by_available_cash_with_commission() -> None:
    # equity 100,000 (90,000 in MSFT) but only 10,000 cash: floor(10,000 / 100.1) = 99
    book = book_with(10_000, held("MSFT", 900, 100.0))

    allocation = sized(size(signal(), book, risk()))

    assert allocation.quantity == 99
    assert allocation.cash_after == pytest.approx(10_000 - 99 * 100 * 1.001)
    assert "bound by cash" in allocation.reason


def test_cash_reserved_by_a_pending_entry_is_not_spent_twice() -> None:
    book, first = allocate(signal("MSFT"), Book.open(20_000), risk())
    # first: weight cap 15% of 20,000 / 100 = 30 shares, reserving 30 x 100.1 = 3,003
    assert sized(first).quantity == 30
    assert book.available_cash == pytest.approx(20_000 - 3_003)

    second = sized(size(signal("AAPL"), book, risk()))

    assert second.cash_after == pytest.approx(20_000 - 3_003 - 30 * 100.1)


def test_float_artefacts_in_the_stop_distance_do_not_cost_a_share() -> None:
    # 10.3 - 10.1 is 0.2000000000000011 in floats; 1,000 / 0.2 is 5,000 shares
    decision = size(signal(entry=10.3, stop=10.1, target=10.9), Book.open(100_000),
                    risk(max_weight_per_symbol=1.0))  # fmt: skip

    assert sized(decision).quantity == 5_000


def test_rejects_when_every_position_slot_is_taken() -> None:
    book = book_with(50_000, held("MSFT", 10, 100.0), held("NVDA", 10, 100.0))
    book, _ = allocate(signal("AMZN"), book, risk())

    rejection = rejected(size(signal("AAPL"), book, risk(max_positions=3)))

    assert rejection.reason == "max_positions"
    assert "3 of 3" in rejection.detail


def test_rejects_a_symbol_already_held() -> None:
    book = book_with(50_000, held("AAPL", 10, 100.0))

    assert rejected(size(signal("AAPL"), book, risk())).reason == "already_held"


def test_rejects_a_symbol_already_waiting_to_fill() -> None:
    book, _ = allocate(signal("AAPL", ts=T0), Book.open(100_000), risk())

    later = signal("AAPL", ts=day(1))
    assert rejected(size(later, book, risk())).reason == "already_pending"


def test_rejects_when_less_than_one_share_fits_the_risk_budget() -> None:
    # 5,000 x 1% = 50 at risk, 99 per share -> 0 shares
    decision = size(signal(entry=100, stop=1, target=300), Book.open(5_000), risk())

    rejection = rejected(decision)
    assert rejection.reason == "too_small"
    assert "by risk 0" in rejection.detail


def test_rejects_for_cash_when_cash_is_what_binds() -> None:
    book = book_with(50.0, held("MSFT", 999, 100.0))

    assert rejected(size(signal(), book, risk())).reason == "insufficient_cash"


def test_rejects_a_signal_whose_next_open_already_passed() -> None:
    book = mark(Book.open(100_000), "AAPL", day(1))

    rejection = rejected(size(signal(ts=T0), book, risk()))

    assert rejection.reason == "stale"
    assert "2024-03-02" in rejection.detail


def test_a_signal_on_the_last_bar_seen_is_not_stale() -> None:
    book = mark(Book.open(100_000), "AAPL", T0)

    assert isinstance(size(signal(ts=T0), book, risk()), Allocation)


def test_rejects_levels_that_are_not_stop_below_entry_below_target() -> None:
    decision = size(signal(entry=100, stop=100, target=106), Book.open(100_000), risk())

    assert rejected(decision).reason == "invalid_levels"


def test_allocate_adds_the_pending_entry_and_leaves_the_old_book_alone() -> None:
    before = Book.open(100_000)

    after, decision = allocate(signal(), before, risk())

    assert sized(decision).quantity == 150
    assert before.pending == ()
    assert [p.allocation for p in after.pending] == [decision]
    assert after.pending[0].reserved == pytest.approx(150 * 100 * 1.001)
    assert after.cash == before.cash == 100_000
    assert after.equity == pytest.approx(100_000)


def test_a_rejected_signal_leaves_the_book_as_it_was() -> None:
    book = book_with(50_000, held("AAPL", 10, 100.0))

    after, decision = allocate(signal("AAPL"), book, risk())

    assert isinstance(decision, Rejection)
    assert after == book
