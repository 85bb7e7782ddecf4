"""The paper portfolio as pure functions: risk-based sizing, the book, and fill rules.

The portfolio service, the backtester and the tests call the very same functions:

    book, decision = allocate(signal, book, risk)    # Allocation (pending) or Rejection
    outcome = on_bar(book, bar, risk)                 # next-open entries, exits, marks
    book = outcome.book                               # outcome.fills, .closed, .cancelled

Nothing here does I/O or reads a clock: times are bar times, and a `Book` is a value.
"""

from swingflow_common.portfolio.book import (
    Book,
    ClosedTrade,
    ExitReason,
    PendingEntry,
    Position,
    add_pending,
    cancel_pending,
    close_position,
    mark,
    open_position,
)
from swingflow_common.portfolio.fills import (
    BarOutcome,
    Cancellation,
    entry_fill,
    exit_fill,
    exit_level,
    on_bar,
)
from swingflow_common.portfolio.sizing import (
    Rejection,
    RejectionReason,
    allocate,
    reservation,
    size,
)

__all__ = [
    "BarOutcome",
    "Book",
    "Cancellation",
    "ClosedTrade",
    "ExitReason",
    "PendingEntry",
    "Position",
    "Rejection",
    "RejectionReason",
    "add_pending",
    "allocate",
    "cancel_pending",
    "close_position",
    "entry_fill",
    "exit_fill",
    "exit_level",
    "mark",
    "on_bar",
    "open_position",
    "reservation",
    "size",
]
