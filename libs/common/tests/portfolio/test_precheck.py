"""`sizing.precheck` (what a backtest asks before it builds a signal's message) gives
exactly the rejection reason `size` gives, and None exactly when `size` allocates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.messages import Allocation
from swingflow_common.portfolio import add_pending, mark, size
from swingflow_common.portfolio.sizing import precheck

from .factories import T0, book_with, day, held, risk, signal

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN")


@settings(max_examples=300, deadline=None)
@given(
    cash=st.floats(min_value=0.0, max_value=200_000.0),
    holdings=st.lists(
        st.tuples(st.sampled_from(SYMBOLS[1:]), st.integers(1, 2_000), st.floats(1.0, 500.0)),
        max_size=3,
        unique_by=lambda h: h[0],
    ),
    symbol=st.sampled_from(SYMBOLS),
    entry=st.floats(min_value=1.0, max_value=1_000.0),
    stop_frac=st.floats(min_value=0.5, max_value=1.05),
    target_frac=st.floats(min_value=0.95, max_value=1.5),
    max_positions=st.integers(1, 4),
    pending_first=st.booleans(),
    seen_later=st.booleans(),
)
def test_precheck_gives_the_reason_size_gives(
    cash: float,
    holdings: list[tuple[str, int, float]],
    symbol: str,
    entry: float,
    stop_frac: float,
    target_frac: float,
    max_positions: int,
    pending_first: bool,
    seen_later: bool,
) -> None:
    book = book_with(cash, *(held(s, q, p) for s, q, p in holdings))
    settings_ = risk(max_positions=max_positions)
    if pending_first:  # another signal of this symbol already waits to fill
        first = size(
            signal(symbol, entry=100.0, stop=96.0, target=106.0), book_with(1e6), settings_
        )
        if isinstance(first, Allocation):
            book = add_pending(book, first, 0.0)
    if seen_later:
        book = mark(book, symbol, day(3))
    sig = signal(symbol, entry=entry, stop=round(entry * stop_frac, 4),
                 target=round(entry * target_frac, 4), ts=T0)  # fmt: skip
    decision = size(sig, book, settings_)
    expected = None if isinstance(decision, Allocation) else decision.reason
    got = precheck(sig.symbol, sig.ts, sig.entry, sig.stop, sig.target, book, settings_)
    assert got == expected
