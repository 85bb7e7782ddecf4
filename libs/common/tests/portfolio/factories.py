"""Small hand-made signals, bars and books whose numbers a reader can check by hand.

Costs are set so the arithmetic stays readable: commission 10 bps (0.1%), slippage
20 bps (0.2%). A signal enters at 100 with its stop at 96 and target at 106.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from swingflow_common.config import RiskSettings
from swingflow_common.messages import Bar, ConfirmedSignal, StageScore
from swingflow_common.portfolio import Book, Position

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def risk(**overrides: float) -> RiskSettings:
    values: dict[str, float] = {
        "risk_per_trade": 0.01,
        "max_positions": 3,
        "max_weight_per_symbol": 0.15,
        "initial_cash": 100_000.0,
        "commission_bps": 10.0,
        "slippage_bps": 20.0,
        "max_bars_held": 3,
    }
    values.update(overrides)
    return RiskSettings.model_validate(values)


def signal(
    symbol: str = "AAPL",
    *,
    entry: float = 100.0,
    stop: float = 96.0,
    target: float = 106.0,
    ts: datetime = T0,
) -> ConfirmedSignal:
    stages = tuple(
        StageScore(stage=name, score=0.8, passed=True, reason="test")
        for name in ("base_signal", "confirmation", "ml_confidence", "entry_timing")
    )
    return ConfirmedSignal(
        id=f"{symbol}-{ts:%Y%m%d}-trend_pullback",
        symbol=symbol,
        ts=ts,
        setup="trend_pullback",
        entry=entry,
        stop=stop,
        target=target,
        stages=stages,
        weights={"base_signal": 0.3, "confirmation": 0.25, "ml_confidence": 0.25,
                 "entry_timing": 0.2},
        total=0.8,
        threshold=0.6,
        reason="confirmed in a test",
        ts_event=ts,
    )  # fmt: skip


def bar(n: int, open_: float, high: float, low: float, close: float, symbol: str = "AAPL") -> Bar:
    """The bar of `symbol` on day `n` after T0."""
    return Bar(symbol=symbol, ts=day(n), open=open_, high=high, low=low, close=close,
               volume=1_000_000)  # fmt: skip


def held(symbol: str, quantity: float, price: float) -> Position:
    """A position bought at `price` on T0, marked at the same price."""
    return Position(
        symbol=symbol,
        allocation_id=f"{symbol}-held",
        signal_id=f"{symbol}-held",
        quantity=quantity,
        entry_ts=T0,
        entry_price=price,
        entry_commission=0.0,
        entry_slippage=0.0,
        stop=price * 0.9,
        target=price * 1.2,
        last_price=price,
        last_ts=T0,
    )


def book_with(cash: float, *positions: Position) -> Book:
    book = Book.open(cash).model_copy(update={"positions": positions})
    return book.model_copy(update={"peak_equity": book.equity})
