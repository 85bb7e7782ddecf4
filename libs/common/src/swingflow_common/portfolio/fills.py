"""Paper-trading fills: what one bar does to the book, with no look-ahead.

For a bar of symbol S (bars of one symbol come in time order; an older or repeated bar
changes nothing):

1. Entry. An allocation waiting since an earlier bar fills at this bar's open, plus
   adverse slippage (`slippage_bps`), with commission (`commission_bps`) on the money
   paid. When the bar opens at or beyond the signal's stop or target the setup is void and
   the allocation is cancelled; when the cash left cannot pay for every share, fewer are
   bought (none: cancelled).
2. Exit, for a position (one just opened included, from its open onwards):
   - a gap: the bar opens at or below the stop -> sold at the open (minus slippage);
     opens at or above the target -> sold at the open (a resting limit order);
   - inside the range: the low reaches the stop -> sold at the stop (minus slippage);
     the high reaches the target -> sold at the target. When both lie in one bar the
     order of the two is unknown, so the stop is taken (the conservative reading);
   - on time: after `max_bars_held` bars (the entry bar counting 1) -> sold at the close
     (minus slippage).
   Market exits (stop, gap through the stop, time) pay slippage; a target is a limit
   order and does not. Commission is paid on every sell.

Slippage is `slippage_bps` of the price, or, when a caller passes `slippage` (a price
amount per share, e.g. a backtest's fraction of ATR), that amount instead.
3. Mark: a position still open is valued at the bar's close.

Fill ids are `<allocation id>-buy` and `<allocation id>-sell`, so a replay makes the same
ids. A fill's `slippage` is the money lost to slippage (quantity x price difference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from swingflow_common.config import RiskSettings
from swingflow_common.messages import Bar, Fill
from swingflow_common.portfolio.book import (
    Book,
    ClosedTrade,
    ExitReason,
    PendingEntry,
    Position,
    cancel_pending,
    close_position,
    mark,
    open_position,
    replace_position,
)
from swingflow_common.portfolio.sizing import BPS

_EPS = 1e-9


@dataclass(frozen=True)
class Cancellation:
    """A pending allocation dropped at the open, and why."""

    allocation_id: str
    symbol: str
    reason: Literal["opened_beyond_levels", "insufficient_cash"]
    detail: str


@dataclass(frozen=True)
class BarOutcome:
    """The book after one bar, and what happened on it."""

    book: Book
    fills: tuple[Fill, ...] = ()
    opened: tuple[Position, ...] = ()
    closed: tuple[ClosedTrade, ...] = ()
    cancelled: tuple[Cancellation, ...] = ()


def slipped(level: float, risk: RiskSettings, slippage: float | None, side: int) -> float:
    """`level` moved against the trader (side +1 buying, -1 selling), never below 1% of it."""
    if slippage is None:
        return level * (1.0 + side * risk.slippage_bps * BPS)
    return max(level + side * slippage, 0.01 * level)


def commission(quantity: float, price: float, risk: RiskSettings) -> float:
    """The commission on a fill of `quantity` shares at `price`."""
    return quantity * price * risk.commission_bps * BPS


def entry_terms(
    open_: float, stop: float, target: float, wanted: float, affordable: float,
    risk: RiskSettings, slippage: float | None,
) -> tuple[float, float] | Literal["opened_beyond_levels", "insufficient_cash"]:  # fmt: skip
    """(price, quantity) of an entry at the open `open_` for at most `wanted` shares with
    `affordable` cash, or why it is cancelled (`entry_fill` on plain numbers)."""
    if not stop < open_ < target:
        return "opened_beyond_levels"
    price = slipped(open_, risk, slippage, +1)
    per_share = price * (1.0 + risk.commission_bps * BPS)
    quantity = float(min(wanted, math.floor(affordable / per_share + _EPS)))
    if quantity < 1:
        return "insufficient_cash"
    return price, quantity


def entry_fill(
    pending: PendingEntry,
    bar: Bar,
    book: Book,
    risk: RiskSettings,
    *,
    slippage: float | None = None,
) -> Fill | Cancellation:
    """The buy fill of a pending allocation at `bar`'s open, or why it is cancelled."""
    allocation = pending.allocation
    affordable = book.available_cash + pending.reserved  # its own reservation is its to spend
    terms = entry_terms(
        bar.open, allocation.stop, allocation.target, allocation.quantity, affordable, risk,
        slippage,
    )  # fmt: skip
    if terms == "opened_beyond_levels":
        detail = f"opened at {bar.open} outside stop {allocation.stop} / target {allocation.target}"
        return Cancellation(allocation.id, allocation.symbol, terms, detail)
    if terms == "insufficient_cash":
        price = slipped(bar.open, risk, slippage, +1)
        detail = f"{affordable:.2f} cash buys no share at {price:.4f}"
        return Cancellation(allocation.id, allocation.symbol, terms, detail)
    price, quantity = terms
    return Fill(
        id=f"{allocation.id}-buy",
        allocation_id=allocation.id,
        symbol=allocation.symbol,
        ts=bar.ts,
        side="buy",
        quantity=quantity,
        price=price,
        commission=commission(quantity, price, risk),
        slippage=quantity * (price - bar.open),
        reason="entry at the next open"
        + (
            "" if quantity == allocation.quantity else f" ({quantity:g} of {allocation.quantity:g})"
        ),
        ts_event=bar.ts,
    )


def exit_level(position: Position, bar: Bar, max_bars_held: int) -> tuple[float, ExitReason] | None:
    """The reference price and reason of the position's exit on `bar`, or None to hold.

    `position.bars_held` already counts `bar`.
    """
    return exit_at(bar.open, bar.high, bar.low, bar.close, position.stop, position.target,
                   position.bars_held, max_bars_held)  # fmt: skip


def exit_at(
    open_: float, high: float, low: float, close: float, stop: float, target: float,
    bars_held: int, max_bars_held: int,
) -> tuple[float, ExitReason] | None:  # fmt: skip
    """`exit_level` on plain numbers (a backtest's loop over bar arrays calls it so)."""
    if open_ <= stop:
        return open_, "stop_gap"
    if open_ >= target:
        return open_, "target_gap"
    if low <= stop:
        return stop, "stop"  # also when the target lies in the same bar
    if high >= target:
        return target, "target"
    if bars_held >= max_bars_held:
        return close, "time"
    return None


def sell_price(level: float, reason: ExitReason, risk: RiskSettings,
               slippage: float | None) -> float:  # fmt: skip
    """The price an exit at `level` sells at: a target is a limit order (no slippage)."""
    return level if reason in ("target", "target_gap") else slipped(level, risk, slippage, -1)


def exit_fill(
    position: Position, bar: Bar, risk: RiskSettings, *, slippage: float | None = None
) -> tuple[Fill, ExitReason] | None:
    """The sell fill that closes the position on `bar`, or None when it holds."""
    found = exit_level(position, bar, risk.max_bars_held)
    if found is None:
        return None
    level, reason = found
    price = sell_price(level, reason, risk, slippage)
    quantity = position.quantity
    fill = Fill(
        id=f"{position.allocation_id}-sell",
        allocation_id=position.allocation_id,
        symbol=position.symbol,
        ts=bar.ts,
        side="sell",
        quantity=quantity,
        price=price,
        commission=commission(quantity, price, risk),
        slippage=quantity * (level - price),
        reason=reason,
        ts_event=bar.ts,
    )
    return fill, reason


def on_bar(
    book: Book, bar: Bar, risk: RiskSettings, *, slippage: float | None = None
) -> BarOutcome:
    """Apply one bar to the book: fill a waiting entry, exit or mark a position.

    `slippage`, when given, is the price amount per share lost on a market fill of this
    symbol (instead of `risk.slippage_bps`).
    """
    seen = book.last_bar.get(bar.symbol)
    if seen is not None and bar.ts <= seen:
        return BarOutcome(book)  # a repeat or an old bar: already applied
    fills: list[Fill] = []
    opened: list[Position] = []
    closed: list[ClosedTrade] = []
    cancelled: list[Cancellation] = []
    pending = book.pending_for(bar.symbol)
    held = book.position(bar.symbol)
    if held is not None:
        aged = held.model_copy(update={"bars_held": held.bars_held + 1})
        found = exit_fill(aged, bar, risk, slippage=slippage)
        if found is None:  # the usual bar of a held symbol: one copy of the position
            marked = held.model_copy(
                update={"bars_held": aged.bars_held, "last_price": bar.close, "last_ts": bar.ts}
            )
            return BarOutcome(mark(replace_position(book, marked), bar.symbol, bar.ts))
        book = replace_position(book, aged)
    elif pending is not None and pending.allocation.ts < bar.ts:
        entry = entry_fill(pending, bar, book, risk, slippage=slippage)
        if isinstance(entry, Cancellation):
            book = cancel_pending(book, pending.allocation.id)
            cancelled.append(entry)
        else:
            book, new = open_position(book, pending, entry)
            fills.append(entry)
            opened.append(new)
    position = book.position(bar.symbol)
    if position is not None:
        found = exit_fill(position, bar, risk, slippage=slippage)
        if found is None:
            marked = position.model_copy(update={"last_price": bar.close, "last_ts": bar.ts})
            book = replace_position(book, marked)
        else:
            sell, reason = found
            book, trade = close_position(book, position, sell, reason)
            fills.append(sell)
            closed.append(trade)
    return BarOutcome(mark(book, bar.symbol, bar.ts), tuple(fills), tuple(opened),
                      tuple(closed), tuple(cancelled))  # fmt: skip
