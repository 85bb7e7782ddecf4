"""The session loop: confirmed signals -> the portfolio's sizing and fills -> trades, equity.

Sessions are processed in time order. On each session:

1. every symbol the book holds or waits to buy gets its bar through `portfolio.on_bar`
   (the paper-trading fill rules: entry at the open, stop/target/gap/time exits); no other
   symbol can change the book, so no other bar is looked at;
2. a position whose symbol has no later bar in the data (delisted, or the data end) is
   sold at its last close, less slippage and commission (`end_of_data`);
3. the session's confirmed signals, best total first, go through `portfolio.allocate`
   (risk sizing, max positions, cash, max weight); with `entry="close"` a taken signal
   fills at once at this session's close, otherwise at the symbol's next open (on the
   last session no signal is taken: there is nothing left to trade it on);
4. the account is marked: cash plus every position at its last close.

Signals of a session only ever meet the book after that session's bars were applied, so
the portfolio's stale-signal guard (a later bar of the symbol already seen) never fires.

This is the reference loop, on the pydantic `Book` with each taken signal's message;
`simulate_fast` walks the same steps on plain numbers (the engine's default) and a test
holds the two equal. `Offers` is the confirmed signals as a table, what both take.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.backtest.bars import EPOCH, BarIndex
from swingflow_common.backtest.result import BacktestTrade, EquityPoint, ExitReason
from swingflow_common.config import RiskSettings
from swingflow_common.messages import Bar, ConfirmedSignal, Fill
from swingflow_common.pipeline.integrate import Evaluation
from swingflow_common.portfolio import (
    Book,
    ClosedTrade,
    Position,
    Rejection,
    allocate,
    cancel_pending,
    close_position,
    entry_fill,
    mark,
    on_bar,
    open_position,
)
from swingflow_common.portfolio.fills import Cancellation, slipped
from swingflow_common.portfolio.sizing import precheck
from swingflow_common.progress import Progress, no_progress

Entry = Literal["next_open", "close"]
# A fill's exit kind (a gap through the level included) as the trade records name it.
EXIT_REASONS: dict[str, ExitReason] = {
    "stop": "stop",
    "stop_gap": "stop",
    "target": "target",
    "target_gap": "target",
    "time": "time",
}


Scores = tuple[float | None, float | None, float | None, float | None]


class Order:
    """A confirmed signal offered to the portfolio, with what its trade record carries.

    `Order(signal, atr, scores)` holds a built ConfirmedSignal; `Order.lazy(...)` holds
    what the portfolio's gate reads (symbol, time, levels, total) and builds the signal
    only when `signal` is first read (a backtest builds it only for the signals the book
    could take: most are turned away as already held or for want of a slot).
    """

    __slots__ = ("_build", "_signal", "atr", "entry", "scores", "setup", "stop", "symbol",
                 "target", "total", "ts")  # fmt: skip

    def __init__(self, signal: ConfirmedSignal, atr: float, scores: Scores = (None,) * 4) -> None:
        self._signal: ConfirmedSignal | None = signal
        self._build: Callable[[], ConfirmedSignal] | None = None
        self.atr, self.scores = atr, scores
        self.symbol, self.setup, self.ts = signal.symbol, signal.setup, signal.ts
        self.total, self.entry = signal.total, signal.entry
        self.stop, self.target = signal.stop, signal.target

    @classmethod
    def lazy(
        cls, *, symbol: str, setup: str, ts: datetime, total: float, entry: float,
        stop: float, target: float, atr: float, scores: Scores,
        build: Callable[[], ConfirmedSignal],
    ) -> Order:  # fmt: skip
        order = cls.__new__(cls)
        order._signal, order._build = None, build
        order.atr, order.scores = atr, scores
        order.symbol, order.setup, order.ts, order.total = symbol, setup, ts, total
        order.entry, order.stop, order.target = entry, stop, target
        return order

    @property
    def signal(self) -> ConfirmedSignal:
        if self._signal is None:
            assert self._build is not None
            self._signal, self._build = self._build(), None
        return self._signal

    @classmethod
    def of(cls, evaluation: Evaluation) -> Order:
        if evaluation.signal is None:
            raise ValueError(f"{evaluation.candidate.id} was not confirmed")
        scores = tuple(s.score for s in evaluation.stages)
        return cls(evaluation.signal, evaluation.candidate.atr, scores)  # type: ignore[arg-type]


SignalBuild = Callable[[int], ConfirmedSignal]  # an offer's row -> its message


def _unknown(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class Offers:
    """Confirmed signals as columns, one row each, in the order the portfolio is offered
    them: by session, then best total first, then symbol, then setup (as `engine.judge`
    sorts its orders). `sym` and `setup` index `symbols` and `setups` (both sorted, so the
    codes sort as the names do); a score of NaN is unknown (None). `build`, when set,
    makes a row's `ConfirmedSignal` (the reference path and tests read it)."""

    symbols: tuple[str, ...]
    setups: tuple[str, ...]
    ns: npt.NDArray[np.int64]  # the signal's session
    sym: npt.NDArray[np.int64]
    setup: npt.NDArray[np.int64]
    total: npt.NDArray[np.float64]
    entry: npt.NDArray[np.float64]
    stop: npt.NDArray[np.float64]
    target: npt.NDArray[np.float64]
    atr: npt.NDArray[np.float64]
    scores: npt.NDArray[np.float64]  # (rows, 4) in pipeline order
    build: SignalBuild | None = None

    def __len__(self) -> int:
        return int(self.ns.shape[0])

    def with_messages(self, build: SignalBuild) -> Offers:
        return replace(self, build=build)

    def span(self, ns: int) -> tuple[int, int]:
        """The rows of session `ns`, as [lo, hi)."""
        lo = int(np.searchsorted(self.ns, ns, side="left"))
        return lo, int(np.searchsorted(self.ns, ns, side="right"))

    def count_on(self, sessions: npt.NDArray[np.int64]) -> int:
        """How many offers fall on these sessions."""
        return int(np.isin(self.ns, sessions).sum())

    def signal(self, i: int) -> ConfirmedSignal:
        """Row `i`'s ConfirmedSignal (only for offers built with their messages)."""
        if self.build is None:
            raise ValueError("these offers were judged without their messages")
        return self.build(i)

    def order(self, i: int) -> Order:
        """Row `i` as the reference loop's lazy Order."""
        scores = tuple(_unknown(x) for x in self.scores[i].tolist())
        return Order.lazy(
            symbol=self.symbols[int(self.sym[i])], setup=self.setups[int(self.setup[i])],
            ts=EPOCH + timedelta(microseconds=int(self.ns[i]) // 1000),
            total=float(self.total[i]), entry=float(self.entry[i]), stop=float(self.stop[i]),
            target=float(self.target[i]), atr=float(self.atr[i]),
            scores=scores,  # type: ignore[arg-type]
            build=lambda: self.signal(i),
        )  # fmt: skip

    def orders(self) -> dict[int, list[Order]]:
        """Every row as an Order, by session (what the reference `simulate` takes)."""
        out: dict[int, list[Order]] = {}
        for i, ns in enumerate(self.ns.tolist()):
            out.setdefault(ns, []).append(self.order(i))
        return out

    @classmethod
    def of_orders(cls, orders: Mapping[int, Sequence[Order]]) -> Offers:
        """Orders already in offer order within each session (e.g. `engine.judge`'s)."""
        flat = [(ns, o) for ns in sorted(orders) for o in orders[ns]]
        symbols = tuple(sorted({o.symbol for _, o in flat}))
        setups = tuple(sorted({o.setup for _, o in flat}))
        sym_code = {s: k for k, s in enumerate(symbols)}
        setup_code = {s: k for k, s in enumerate(setups)}

        def column(values: list[float]) -> npt.NDArray[np.float64]:
            return np.array(values, dtype=np.float64)

        signals = [o for _, o in flat]
        return cls(
            symbols=symbols, setups=setups,
            ns=np.array([ns for ns, _ in flat], dtype=np.int64),
            sym=np.array([sym_code[o.symbol] for o in signals], dtype=np.int64),
            setup=np.array([setup_code[o.setup] for o in signals], dtype=np.int64),
            total=column([o.total for o in signals]), entry=column([o.entry for o in signals]),
            stop=column([o.stop for o in signals]), target=column([o.target for o in signals]),
            atr=column([o.atr for o in signals]),
            scores=np.array(
                [[math.nan if x is None else x for x in o.scores] for o in signals],
                dtype=np.float64,
            ).reshape(-1, 4),
            build=lambda i: signals[i].signal,
        )  # fmt: skip


@dataclass
class Simulation:
    """What the loop produced (trades in the order they closed)."""

    trades: list[BacktestTrade] = field(default_factory=list)
    equity: list[tuple[float, float, float]] = field(default_factory=list)  # equity, cash, exp.
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class _Open:
    order: Order
    position: Position | None = None


class _Loop:
    def __init__(self, bars: BarIndex, risk: RiskSettings, entry: Entry,
                 slippage_atr: float | None) -> None:  # fmt: skip
        self.bars, self.risk, self.entry, self.slippage_atr = bars, risk, entry, slippage_atr
        self.book = Book.open(risk.initial_cash)
        self.live: dict[str, _Open] = {}  # allocation id -> order (and position once filled)
        self.out = Simulation()

    def slip(self, order: Order) -> float | None:
        return None if self.slippage_atr is None else self.slippage_atr * order.atr

    def record(self, trade: ClosedTrade, sell: Fill, reason: ExitReason) -> None:
        held = self.live.pop(trade.id)
        position, order = held.position, held.order
        assert position is not None
        sig = order.signal
        risk_money = trade.quantity * (trade.entry_price - sig.stop)
        base, conf, ml, timing = order.scores
        self.out.trades.append(
            BacktestTrade(
                seq=len(self.out.trades) + 1, symbol=trade.symbol, setup=sig.setup,
                signal_id=sig.id, signal_ts=sig.ts, entry_ts=trade.entry_ts,
                entry_price=trade.entry_price, exit_ts=trade.exit_ts,
                exit_price=trade.exit_price, exit_reason=reason, quantity=trade.quantity,
                stop=sig.stop, target=sig.target,
                fees=position.entry_commission + sell.commission,
                slippage=position.entry_slippage + sell.slippage, pnl=trade.pnl,
                return_pct=trade.return_pct,
                r_multiple=trade.pnl / risk_money if risk_money > 0 else None,
                bars_held=trade.bars_held, base_signal=base, confirmation=conf,
                ml_confidence=ml, entry_timing=timing, total=sig.total,
            )
        )  # fmt: skip

    def cancelled(self, c: Cancellation) -> None:
        self.live.pop(c.allocation_id, None)
        self.out.rejected[f"cancelled_{c.reason}"] += 1

    def apply_bar(self, bar: Bar, order: Order) -> None:
        outcome = on_bar(self.book, bar, self.risk, slippage=self.slip(order))
        self.book = outcome.book
        for position in outcome.opened:
            self.live[position.allocation_id].position = position
        sells = {f.allocation_id: f for f in outcome.fills if f.side == "sell"}
        for trade in outcome.closed:
            self.record(trade, sells[trade.id], EXIT_REASONS[trade.exit_reason])
        for c in outcome.cancelled:
            self.cancelled(c)

    def close_out(self, position: Position, order: Order) -> None:
        """Sell at the last close seen: the data of this symbol end here."""
        price = slipped(position.last_price, self.risk, self.slip(order), -1)
        qty = position.quantity
        sell = Fill(
            id=f"{position.allocation_id}-sell", allocation_id=position.allocation_id,
            symbol=position.symbol, ts=position.last_ts, side="sell", quantity=qty,
            price=price, commission=qty * price * self.risk.commission_bps * 1e-4,
            slippage=qty * (position.last_price - price), reason="end_of_data",
            ts_event=position.last_ts,
        )  # fmt: skip
        self.book, trade = close_position(self.book, position, sell, "time")
        self.record(trade, sell, "end_of_data")

    def fill_at_close(self, bar: Bar, order: Order, allocation_id: str) -> None:
        pending = self.book.pending_for(bar.symbol)
        assert pending is not None
        at_close = bar.model_copy(update={"open": bar.close})
        fill = entry_fill(pending, at_close, self.book, self.risk, slippage=self.slip(order))
        if isinstance(fill, Cancellation):
            self.book = cancel_pending(self.book, allocation_id)
            self.cancelled(fill)
            return
        self.book, position = open_position(self.book, pending, fill)
        self.book = mark(self.book, bar.symbol, bar.ts)
        self.live[allocation_id].position = position

    def session(self, ns: int, orders: Sequence[Order], ending: bool) -> None:
        for held in sorted(self.live.values(), key=lambda h: h.order.symbol):
            bar = self.bars.bar(held.order.symbol, ns)
            if bar is not None:
                self.apply_bar(bar, held.order)
        for aid, held in sorted(self.live.items(), key=lambda kv: kv[1].order.symbol):
            symbol = held.order.symbol
            if ending or self.bars.last_ns(symbol) <= ns:
                if held.position is not None:
                    current = self.book.position(symbol)
                    assert current is not None
                    self.close_out(current, held.order)
                else:
                    self.book = cancel_pending(self.book, aid)
                    self.live.pop(aid)
                    self.out.rejected["cancelled_end_of_data"] += 1
        for order in orders:
            self.offer(order, ns, ending)
        positions = self.book.positions_value
        equity = self.book.cash + positions
        self.out.equity.append((equity, self.book.cash, positions / equity if equity > 0 else 0.0))

    def offer(self, order: Order, ns: int, ending: bool) -> None:
        if ending:
            self.out.rejected["end_of_data"] += 1  # nothing left to trade it on
            return
        refused = precheck(order.symbol, order.ts, order.entry, order.stop, order.target,
                           self.book, self.risk)  # fmt: skip
        if refused is not None:  # allocate would reject it so: no need to build the signal
            self.out.rejected[refused] += 1
            return
        self.book, decision = allocate(order.signal, self.book, self.risk)
        if isinstance(decision, Rejection):
            self.out.rejected[decision.reason] += 1
            return
        self.live[decision.id] = _Open(order)
        if self.entry == "close":
            bar = self.bars.bar(order.symbol, ns)
            assert bar is not None  # a signal comes from its own session's bar
            self.fill_at_close(bar, order, decision.id)


def simulate(
    bars: BarIndex,
    sessions: npt.NDArray[np.int64],
    orders: dict[int, list[Order]],
    risk: RiskSettings,
    *,
    entry: Entry = "next_open",
    slippage_atr: float | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Run the book over `sessions` (int64 ns, ascending); `orders` maps a session's ns
    to its confirmed signals, in the order they are offered to the portfolio."""
    report = progress or no_progress
    loop = _Loop(bars, risk, entry, slippage_atr)
    total = len(sessions)
    step = max(1, total // 100)
    for k, ns in enumerate(sessions.tolist()):
        loop.session(ns, orders.get(ns, []), ending=k == total - 1)
        if k % step == 0 or k == total - 1:
            report("simulate", k + 1, total)
    return loop.out


def equity_points(
    sessions: npt.NDArray[np.int64], sim: Simulation, benchmark: npt.NDArray[np.float64]
) -> list[EquityPoint]:
    """The simulation's daily marks with the buy-and-hold curve beside them."""
    days = pd.DatetimeIndex(sessions.view("datetime64[ns]")).date
    # every value is already a date or a float: no validation needed, one point a session
    return [
        EquityPoint.model_construct(
            day=d, equity=float(e), cash=float(c), exposure=min(1.0, max(0.0, float(x))),
            benchmark=b,
        )
        for d, (e, c, x), b in zip(days, sim.equity, benchmark.tolist(), strict=True)
    ]  # fmt: skip


def session_of(ts: datetime) -> int:
    """A bar time as the int64 ns key of its session."""
    return int(pd.Timestamp(ts).as_unit("ns").value)
