"""The portfolio service's own metrics (default registry, served with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from swingflow_common.portfolio import Book

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

ALLOCATIONS = Counter("swingflow_portfolio_allocations", "Confirmed signals allocated.")
REJECTIONS = Counter(
    "swingflow_portfolio_rejections",
    "Confirmed signals not taken, by reason (max_positions, already_held, stale, ...).",
    ["reason"],
)
FILLS = Counter("swingflow_portfolio_fills", "Paper fills, by side and reason.", ["side", "reason"])
CANCELLATIONS = Counter(
    "swingflow_portfolio_cancellations",
    "Allocations dropped at the open (opened beyond the levels, no cash), by reason.",
    ["reason"],
)
BARS = Counter(
    "swingflow_portfolio_bars",
    "Bars received, by outcome (applied, or other_interval when not the traded interval).",
    ["outcome"],
)
ALLOCATION_SECONDS = Histogram(
    "swingflow_portfolio_allocation_seconds",
    "Time to size one confirmed signal and store the decision (book lock included).",
    buckets=_LATENCY,
)
BAR_BATCH_SECONDS = Histogram(
    "swingflow_portfolio_bar_batch_seconds",
    "Time to apply one batch of bars to the book and store the result (lock included).",
    buckets=_LATENCY,
)
SIGNAL_TO_ALLOCATION = Histogram(
    "swingflow_portfolio_signal_to_allocation_seconds",
    "From the confirmed signal's ts_event to its allocation published.",
    buckets=_LATENCY,
)
EQUITY = Gauge("swingflow_portfolio_equity", "Cash plus positions at their last close.")
CASH = Gauge("swingflow_portfolio_cash", "Cash, pending reservations included.")
OPEN_POSITIONS = Gauge("swingflow_portfolio_open_positions", "Positions held.")
PENDING = Gauge("swingflow_portfolio_pending_entries", "Allocations waiting for the next open.")
LEADER = Gauge(
    "swingflow_portfolio_active",
    "1 while this copy holds the book's lease and consumes, 0 while it waits as a standby.",
)
DRAWDOWN = Gauge("swingflow_portfolio_drawdown", "Equity below its peak, as a fraction.")


def export(book: Book) -> None:
    """Show the book's state on the gauges."""
    EQUITY.set(book.equity)
    CASH.set(book.cash)
    OPEN_POSITIONS.set(len(book.positions))
    PENDING.set(len(book.pending))
    DRAWDOWN.set(book.drawdown)
