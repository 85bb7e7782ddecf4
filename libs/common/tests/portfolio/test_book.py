"""The book as a value: cash accounting of each transition, and a lossless JSON round trip."""

from __future__ import annotations

from typing import Literal

import pytest

from swingflow_common.messages import Allocation, Fill
from swingflow_common.portfolio import (
    Book,
    add_pending,
    allocate,
    cancel_pending,
    close_position,
    mark,
    on_bar,
    open_position,
)

from .factories import T0, bar, book_with, day, held, risk, signal


def allocation(quantity: float = 10) -> Allocation:
    return Allocation(id="A-1", signal_id="A-1", symbol="AAPL", ts=T0, quantity=quantity,
                      price=100, stop=96, target=106, risk_amount=40, weight=0.01,
                      cash_after=0, reason="test", ts_event=T0)  # fmt: skip


Side = Literal["buy", "sell"]


def fill(side: Side, price: float, commission: float, quantity: float = 10) -> Fill:
    return Fill(id=f"A-1-{side}", allocation_id="A-1", symbol="AAPL", ts=day(1), side=side,
                quantity=quantity, price=price, commission=commission, slippage=0.5,
                ts_event=day(1))  # fmt: skip


def test_a_new_book_holds_only_cash() -> None:
    book = Book.open(50_000)

    assert book.cash == book.equity == book.available_cash == 50_000
    assert book.drawdown == 0.0
    assert book.positions == ()
    assert book.pending == ()


def test_a_pending_entry_reserves_cash_but_keeps_equity() -> None:
    book = add_pending(Book.open(10_000), allocation(), reserved=1_001)

    assert book.cash == book.equity == 10_000
    assert book.available_cash == 8_999
    assert cancel_pending(book, "A-1").available_cash == 10_000


def test_opening_pays_price_and_commission_and_closing_receives_proceeds_less_commission() -> None:
    pending_book = add_pending(Book.open(10_000), allocation(), reserved=1_001)

    opened, position = open_position(pending_book, pending_book.pending[0], fill("buy", 100, 1))
    assert opened.cash == 10_000 - 10 * 100 - 1
    assert opened.pending == ()
    assert opened.equity == 10_000 - 1  # marked at the fill price
    assert (position.stop, position.target, position.entry_slippage) == (96, 106, 0.5)

    closed, trade = close_position(opened, position, fill("sell", 110, 1.1), "target")
    assert closed.cash == pytest.approx(10_000 - 1001 + 1100 - 1.1)
    assert closed.positions == ()
    assert trade.pnl == pytest.approx(10 * 10 - 1 - 1.1)
    assert trade.costs == pytest.approx(1 + 0.5 + 1.1 + 0.5)
    assert trade.return_pct == pytest.approx(trade.pnl / 1000)


def test_transitions_leave_the_original_book_unchanged() -> None:
    before = book_with(10_000, held("MSFT", 10, 100))
    frozen = before.model_dump()

    add_pending(before, allocation(), 1_001)
    mark(before, "AAPL", day(3))
    on_bar(before, bar(1, 50, 60, 40, 45, symbol="MSFT"), risk())

    assert before.model_dump() == frozen


def test_a_book_survives_a_json_round_trip() -> None:
    book, _ = allocate(signal("MSFT"), Book.open(100_000), risk())
    book = on_bar(book, bar(1, 101, 103, 100, 102, symbol="MSFT"), risk()).book
    book, _ = allocate(signal("AAPL", ts=day(1)), book, risk())

    again = Book.model_validate_json(book.model_dump_json())

    assert again == book
    assert again.equity == book.equity
    assert again.last_bar == {"MSFT": day(1)}
