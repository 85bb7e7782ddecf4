"""Risk-based position sizing: how many shares of a confirmed signal the book buys, or why none.

    risk budget = equity x risk_per_trade
    quantity    = floor(risk budget / (entry - stop))                  # lose at most the budget
                  capped by floor(max_weight_per_symbol x equity / entry)  # concentration
                  and by floor(available cash / (entry x (1 + commission)))  # no leverage

A signal is rejected, with the reason, when its levels make no sense, when the book has
already seen a later bar of its symbol (the next open is gone: `stale`), when the symbol is
already held or pending, when every position slot is taken, or when the quantity is below
one share. The allocation reserves the estimated cost (entry x quantity + commission);
the fill, at the next bar's open, settles the real one (`fills.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from swingflow_common.config import RiskSettings
from swingflow_common.messages import Allocation, ConfirmedSignal
from swingflow_common.portfolio.book import Book, add_pending

RejectionReason = Literal[
    "invalid_levels",
    "stale",
    "already_held",
    "already_pending",
    "max_positions",
    "insufficient_cash",
    "too_small",
]
BPS = 1e-4
_EPS = 1e-9  # so 99.99999999 shares (a float artefact) count as 100


@dataclass(frozen=True)
class Rejection:
    """A confirmed signal the portfolio does not take, and why."""

    signal_id: str
    symbol: str
    reason: RejectionReason
    detail: str


def _floor(x: float) -> int:
    return math.floor(x + _EPS) if math.isfinite(x) else 0


def reservation(quantity: float, price: float, risk: RiskSettings) -> float:
    """The cash an order of `quantity` at `price` needs, its commission included."""
    return quantity * price * (1.0 + risk.commission_bps * BPS)


def _reject(signal: ConfirmedSignal, reason: RejectionReason, detail: str) -> Rejection:
    return Rejection(signal.id, signal.symbol, reason, detail)


def gate(
    symbol: str,
    ts: datetime,
    entry: float,
    stop: float,
    target: float,
    book: Book,
    risk: RiskSettings,
) -> tuple[RejectionReason, str] | None:
    """The first rule a signal with these levels breaks before any arithmetic on
    quantity, as (reason, detail), or None. Cheap: a caller holding many signals (a
    backtest) asks it before it builds the signal's message."""
    if not stop < entry < target:
        return "invalid_levels", f"stop {stop} < entry {entry} < target {target} fails"
    seen = book.last_bar.get(symbol)
    if seen is not None and seen > ts:
        return "stale", f"bar {seen:%Y-%m-%d} of {symbol} already passed; its next open is gone"
    if book.position(symbol) is not None:
        return "already_held", f"{symbol} is already held"
    if book.pending_for(symbol) is not None:
        return "already_pending", f"{symbol} already waits to fill"
    taken = len(book.positions) + len(book.pending)
    if taken >= risk.max_positions:
        return "max_positions", f"{taken} of {risk.max_positions} position slots taken"
    return None


def _gate(signal: ConfirmedSignal, book: Book, risk: RiskSettings) -> Rejection | None:
    """The first rule the signal breaks before any arithmetic on quantity, or None."""
    broken = gate(signal.symbol, signal.ts, signal.entry, signal.stop, signal.target, book, risk)
    return None if broken is None else _reject(signal, *broken)


def quantity_caps(entry: float, stop: float, book: Book, risk: RiskSettings) -> dict[str, int]:
    """The whole shares allowed by risk, by weight and by cash (see the module docstring)."""
    return caps_for(entry, stop, book.equity, book.available_cash, risk)


def caps_for(
    entry: float, stop: float, equity: float, available: float, risk: RiskSettings
) -> dict[str, int]:
    """`quantity_caps` from the book's equity and available cash."""
    return {
        "risk": _floor(equity * risk.risk_per_trade / (entry - stop)),
        "weight": _floor(risk.max_weight_per_symbol * equity / entry),
        "cash": _floor(available / reservation(1, entry, risk)),
    }


def sized(caps: dict[str, int]) -> tuple[int, RejectionReason | None]:
    """The quantity the binding (smallest) cap allows, and the rejection when it is
    below one share."""
    binding = min(caps, key=lambda k: caps[k])
    if caps[binding] < 1:
        return caps[binding], "insufficient_cash" if binding == "cash" else "too_small"
    return caps[binding], None


def precheck(
    symbol: str,
    ts: datetime,
    entry: float,
    stop: float,
    target: float,
    book: Book,
    risk: RiskSettings,
) -> RejectionReason | None:
    """The reason `size` would reject a signal with these levels, or None when it would
    allocate: `gate`, then less than one share. For a caller holding many signals (a
    backtest) that builds a signal's message only when the book takes it."""
    broken = gate(symbol, ts, entry, stop, target, book, risk)
    if broken is not None:
        return broken[0]
    return sized(quantity_caps(entry, stop, book, risk))[1]


def size(
    signal: ConfirmedSignal,
    book: Book,
    risk: RiskSettings,
    *,
    ts_event: datetime | None = None,
) -> Allocation | Rejection:
    """The allocation for `signal` given the book, or the rejection that says why not.

    The allocation's id is the signal's id (one allocation per signal); `ts_event`
    defaults to the signal's own, which keeps the function free of clocks.
    """
    rejection = _gate(signal, book, risk)
    if rejection is not None:
        return rejection
    equity = book.equity
    available = book.available_cash
    per_share = signal.entry - signal.stop
    budget = equity * risk.risk_per_trade
    caps = quantity_caps(signal.entry, signal.stop, book, risk)
    binding = min(caps, key=lambda k: caps[k])
    quantity = caps[binding]
    if quantity < 1:
        reason: RejectionReason = "insufficient_cash" if binding == "cash" else "too_small"
        detail = (
            f"0 shares: by risk {caps['risk']}, by weight {caps['weight']}, "
            f"by cash {caps['cash']} (available {available:.2f})"
        )
        return _reject(signal, reason, detail)
    cost = reservation(quantity, signal.entry, risk)
    risk_amount = quantity * per_share
    return Allocation(
        id=signal.id,
        signal_id=signal.id,
        symbol=signal.symbol,
        ts=signal.ts,
        quantity=quantity,
        price=signal.entry,
        stop=signal.stop,
        target=signal.target,
        risk_amount=risk_amount,
        weight=min(1.0, quantity * signal.entry / equity),
        cash_after=available - cost,
        reason=(
            f"{quantity} shares bound by {binding} (risk {caps['risk']}, weight "
            f"{caps['weight']}, cash {caps['cash']}); risks {risk_amount:.2f} of budget "
            f"{budget:.2f} = {risk.risk_per_trade:.2%} of equity {equity:.2f}"
        ),
        ts_event=ts_event or signal.ts_event,
    )


def allocate(
    signal: ConfirmedSignal, book: Book, risk: RiskSettings, *, ts_event: datetime | None = None
) -> tuple[Book, Allocation | Rejection]:
    """`size` the signal and, when it is taken, add it to the book as a pending entry."""
    decision = size(signal, book, risk, ts_event=ts_event)
    if isinstance(decision, Rejection):
        return book, decision
    reserved = reservation(decision.quantity, decision.price, risk)
    return add_pending(book, decision, reserved), decision
