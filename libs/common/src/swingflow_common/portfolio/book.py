"""The paper portfolio as an immutable value: cash, open positions, pending entries.

A `Book` never changes in place: every transition (`add_pending`, `open_position`,
`close_position`, `cancel_pending`, `mark`) returns a new one, so the live service, a
backtest and a test can replay the same events and compare books. Nothing here does I/O
or reads a clock; times are bar times.

Cash accounting: an allocation reserves `reserved` cash until it fills or is cancelled
(`available_cash` = cash - reservations); a fill moves the real money. Equity is cash plus
every position marked at its last close; `peak_equity` is the highest equity seen after a
bar, so a drawdown can be read from the book alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from swingflow_common.messages import Allocation, Fill

ExitReason = Literal["stop", "target", "stop_gap", "target_gap", "time"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Position(_Value):
    """An open long position, from its entry fill; marked at the last close seen."""

    symbol: str
    allocation_id: str
    signal_id: str
    quantity: float
    entry_ts: datetime
    entry_price: float  # the fill price, slippage included
    entry_commission: float
    entry_slippage: float  # money lost to slippage on entry
    stop: float
    target: float
    bars_held: int = 1  # bars since entry, the entry bar counting 1
    last_price: float
    last_ts: datetime

    @property
    def market_value(self) -> float:
        return self.quantity * self.last_price


class PendingEntry(_Value):
    """An allocation waiting for the next bar's open, with the cash set aside for it."""

    allocation: Allocation
    reserved: float

    @property
    def symbol(self) -> str:
        return self.allocation.symbol


class ClosedTrade(_Value):
    """A round trip, entry fill to exit fill; `pnl` is after every cost."""

    id: str  # the allocation id: one trade per allocation
    signal_id: str
    symbol: str
    quantity: float
    entry_ts: datetime
    entry_price: float
    exit_ts: datetime
    exit_price: float
    exit_reason: ExitReason
    bars_held: int
    pnl: float
    return_pct: float  # pnl / money paid for the shares at entry
    costs: float  # commissions and slippage, both sides


class Book(_Value):
    """The portfolio: cash, positions and pending entries, plus the last bar per symbol."""

    cash: float
    positions: tuple[Position, ...] = ()
    pending: tuple[PendingEntry, ...] = ()
    last_bar: dict[str, datetime] = Field(default_factory=dict)
    peak_equity: float

    @classmethod
    def open(cls, cash: float) -> Book:
        """A new book holding only cash."""
        return cls(cash=cash, peak_equity=cash)

    @property
    def positions_value(self) -> float:
        return sum(p.market_value for p in self.positions)

    @property
    def equity(self) -> float:
        """Cash plus every position at its last close."""
        return self.cash + self.positions_value

    @property
    def reserved(self) -> float:
        return sum(p.reserved for p in self.pending)

    @property
    def available_cash(self) -> float:
        """Cash not set aside for a pending entry."""
        return self.cash - self.reserved

    @property
    def drawdown(self) -> float:
        """How far equity sits below its peak, as a fraction of the peak (0 at a high)."""
        return max(0.0, 1.0 - self.equity / self.peak_equity) if self.peak_equity > 0 else 0.0

    def position(self, symbol: str) -> Position | None:
        return next((p for p in self.positions if p.symbol == symbol), None)

    def pending_for(self, symbol: str) -> PendingEntry | None:
        return next((p for p in self.pending if p.symbol == symbol), None)


def add_pending(book: Book, allocation: Allocation, reserved: float) -> Book:
    """The book with `allocation` waiting to fill and `reserved` cash set aside for it."""
    entry = PendingEntry(allocation=allocation, reserved=reserved)
    return book.model_copy(update={"pending": (*book.pending, entry)})


def cancel_pending(book: Book, allocation_id: str) -> Book:
    """The book without that pending entry; its reserved cash is free again."""
    rest = tuple(p for p in book.pending if p.allocation.id != allocation_id)
    return book.model_copy(update={"pending": rest})


def open_position(book: Book, pending: PendingEntry, fill: Fill) -> tuple[Book, Position]:
    """Turn a pending entry into a position at its buy fill; cash pays price and commission."""
    allocation = pending.allocation
    position = Position(
        symbol=fill.symbol,
        allocation_id=allocation.id,
        signal_id=allocation.signal_id,
        quantity=fill.quantity,
        entry_ts=fill.ts,
        entry_price=fill.price,
        entry_commission=fill.commission,
        entry_slippage=fill.slippage,
        stop=allocation.stop,
        target=allocation.target,
        last_price=fill.price,
        last_ts=fill.ts,
    )
    after = cancel_pending(book, allocation.id)
    cash = after.cash - fill.quantity * fill.price - fill.commission
    update = {"cash": cash, "positions": (*after.positions, position)}
    return after.model_copy(update=update), position


def close_position(
    book: Book, position: Position, fill: Fill, reason: ExitReason
) -> tuple[Book, ClosedTrade]:
    """Sell the whole position at its sell fill; cash gets the proceeds less commission."""
    proceeds = fill.quantity * fill.price
    paid = position.quantity * position.entry_price
    pnl = proceeds - paid - position.entry_commission - fill.commission
    trade = ClosedTrade(
        id=position.allocation_id,
        signal_id=position.signal_id,
        symbol=position.symbol,
        quantity=position.quantity,
        entry_ts=position.entry_ts,
        entry_price=position.entry_price,
        exit_ts=fill.ts,
        exit_price=fill.price,
        exit_reason=reason,
        bars_held=position.bars_held,
        pnl=pnl,
        return_pct=pnl / paid,
        costs=position.entry_commission + position.entry_slippage + fill.commission + fill.slippage,
    )
    rest = tuple(p for p in book.positions if p.symbol != position.symbol)
    cash = book.cash + proceeds - fill.commission
    return book.model_copy(update={"cash": cash, "positions": rest}), trade


def replace_position(book: Book, position: Position) -> Book:
    """The book with `position` in place of the one it holds in the same symbol."""
    positions = tuple(position if p.symbol == position.symbol else p for p in book.positions)
    return book.model_copy(update={"positions": positions})


def mark(book: Book, symbol: str, ts: datetime) -> Book:
    """Record that the bar of `symbol` at `ts` was processed, and update the peak equity."""
    last_bar = {**book.last_bar, symbol: ts}
    return book.model_copy(
        update={"last_bar": last_bar, "peak_equity": max(book.peak_equity, book.equity)}
    )
