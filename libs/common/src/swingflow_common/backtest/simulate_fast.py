"""The session loop of `simulate.simulate` on a mutable book of plain numbers: the same
trades, equity and rejections, without a message or a model copy per bar or per offer.

`simulate.simulate` (the reference) hands every bar of a held symbol to
`portfolio.on_bar` and every offer to `portfolio.allocate`, on the immutable pydantic
`Book`: two model copies per held bar, and a `ConfirmedSignal` built for every signal the
book takes. Over 1,000 symbols x 10 years that is ~25,000 held bars and ~270,000 offers.
This loop keeps the book as plain floats in dicts and walks the same steps in the same
order (held and pending symbols by name, end-of-data, offers best first, the mark):

- the decisions and prices are the portfolio's own functions on plain numbers:
  `fills.exit_at` (which exit, at what level), `fills.sell_price`, `fills.entry_terms`
  (cancel or fill, price and quantity at the open), `fills.commission`, `fills.slipped`,
  `sizing.caps_for`/`sized` (the whole-share caps and the binding one) and
  `sizing.reservation`; the gate's checks (levels, stale, held, pending, slots) are taken
  in `sizing.gate`'s order, and the cash, P&L and equity sums in `portfolio.book`'s;
- a session whose every position slot is taken turns its offers away in one numpy pass
  (each offer gets the first reason `gate` would give it; no offer can be taken, so the
  book cannot change between them);
- a trade's record (`BacktestTrade`) is built once, after the loop; a signal's id is
  `messages.signal_id` of its symbol, session and setup, the id `candidates_at` gives.

`tests/backtest/test_simulate_fast.py` holds the trades, equity and rejections equal to
the reference loop's on synthetic universes under several risk settings, both entry
modes and ATR slippage.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from swingflow_common.backtest.bars import EPOCH, BarIndex
from swingflow_common.backtest.result import BacktestTrade, ExitReason
from swingflow_common.backtest.simulate import EXIT_REASONS, Entry, Offers, Simulation
from swingflow_common.config import RiskSettings
from swingflow_common.messages import signal_id
from swingflow_common.portfolio.fills import (
    commission,
    entry_terms,
    exit_at,
    sell_price,
    slipped,
)
from swingflow_common.portfolio.sizing import caps_for, reservation, sized
from swingflow_common.progress import Progress, no_progress

_NEVER = np.iinfo(np.int64).min


@dataclass(slots=True)
class _Live:
    """One allocation: pending until it fills, then the open position."""

    row: int  # its offer
    symbol: str
    code: int
    quantity: float  # allocated, then bought
    reserved: float
    signal_ns: int
    stop: float
    target: float
    slip: float | None
    ns: npt.NDArray[np.int64]  # the symbol's bars
    values: npt.NDArray[np.float64]
    filled: bool = False
    entry_ns: int = 0
    entry_price: float = 0.0
    entry_commission: float = 0.0
    entry_slippage: float = 0.0
    bars_held: int = 0
    last_price: float = 0.0
    last_ns: int = 0


# a closed trade: offer row, entry ns, entry price, exit ns, exit price, reason, quantity,
# fees, slippage, pnl, return_pct, bars_held
_Closed = tuple[int, int, float, int, float, ExitReason, float, float, float, float, float, int]


def _ts(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)


class _FastLoop:
    def __init__(self, bars: BarIndex, offers: Offers, risk: RiskSettings, entry: Entry,
                 slippage_atr: float | None) -> None:  # fmt: skip
        self.bars, self.offers, self.risk = bars, offers, risk
        self.entry, self.slippage_atr = entry, slippage_atr
        self.cash = risk.initial_cash
        self.positions: dict[str, _Live] = {}  # in the order they opened (the Book's)
        self.pending: dict[str, _Live] = {}  # in the order they were allocated
        n = len(offers.symbols)
        self.last_bar = np.full(n, _NEVER, dtype=np.int64)  # the Book's last_bar, by code
        self.held = np.zeros(n, dtype=bool)
        self.waiting = np.zeros(n, dtype=bool)
        self.closed: list[_Closed] = []
        self.equity: list[tuple[float, float, float]] = []
        self.rejected: Counter[str] = Counter()
        # the columns the offers are read from, as Python lists (cheap to index)
        self.entry_px = offers.entry.tolist()
        self.stop_px = offers.stop.tolist()
        self.target_px = offers.target.tolist()
        self.atr = offers.atr.tolist()
        self.sym = offers.sym.tolist()

    # -- the book's sums, in the Book's order ------------------------------------------
    def positions_value(self) -> float:
        return sum(p.quantity * p.last_price for p in self.positions.values())

    def available_cash(self) -> float:
        return self.cash - sum(p.reserved for p in self.pending.values())

    # -- bars -----------------------------------------------------------------------
    def apply_bar(self, live: _Live, ns: int) -> None:
        """`portfolio.on_bar` for the symbol's bar at `ns`, if it has one."""
        k = int(np.searchsorted(live.ns, ns))
        if k >= live.ns.shape[0] or int(live.ns[k]) != ns:
            return
        if int(self.last_bar[live.code]) >= ns:
            return  # a repeat or an old bar: already applied
        o, h, low, c, _ = live.values[k].tolist()
        max_bars = self.risk.max_bars_held
        if live.filled:
            aged = live.bars_held + 1
            if exit_at(o, h, low, c, live.stop, live.target, aged, max_bars) is None:
                live.bars_held, live.last_price, live.last_ns = aged, c, ns
                self.last_bar[live.code] = ns
                return
            live.bars_held = aged
        elif live.signal_ns < ns:
            self.fill_entry(live, o, ns)
        if live.filled:
            found = exit_at(o, h, low, c, live.stop, live.target, live.bars_held, max_bars)
            if found is None:
                live.last_price, live.last_ns = c, ns
            else:
                level, reason = found
                self.close(live, level, sell_price(level, reason, self.risk, live.slip),
                           ns, EXIT_REASONS[reason])  # fmt: skip
        self.last_bar[live.code] = ns

    def fill_entry(self, live: _Live, open_: float, ns: int) -> None:
        """`fills.entry_fill` and `book.open_position` (or the cancellation) at `open_`."""
        affordable = self.available_cash() + live.reserved
        terms = entry_terms(open_, live.stop, live.target, live.quantity, affordable, self.risk,
                            live.slip)  # fmt: skip
        del self.pending[live.symbol]
        self.waiting[live.code] = False
        if isinstance(terms, str):
            self.rejected[f"cancelled_{terms}"] += 1
            return
        price, quantity = terms
        paid = commission(quantity, price, self.risk)
        self.cash = self.cash - quantity * price - paid
        live.filled, live.quantity, live.entry_ns = True, quantity, ns
        live.entry_price, live.entry_commission = price, paid
        live.entry_slippage = quantity * (price - open_)
        live.bars_held, live.last_price, live.last_ns = 1, price, ns
        self.positions[live.symbol] = live
        self.held[live.code] = True

    def close(self, live: _Live, level: float, price: float, ns: int, reason: ExitReason) -> None:
        """`book.close_position` at the sell fill `price` (reference level `level`)."""
        quantity = live.quantity
        paid_commission = commission(quantity, price, self.risk)
        proceeds = quantity * price
        paid = live.quantity * live.entry_price
        pnl = proceeds - paid - live.entry_commission - paid_commission
        self.cash = self.cash + proceeds - paid_commission
        del self.positions[live.symbol]
        self.held[live.code] = False
        self.closed.append((
            live.row, live.entry_ns, live.entry_price, ns, price, reason, quantity,
            live.entry_commission + paid_commission,
            live.entry_slippage + quantity * (level - price), pnl, pnl / paid, live.bars_held,
        ))  # fmt: skip

    # -- one session ----------------------------------------------------------------
    def session(self, ns: int, lo: int, hi: int, ending: bool) -> None:
        for live in sorted([*self.positions.values(), *self.pending.values()],
                           key=lambda x: x.symbol):  # fmt: skip
            self.apply_bar(live, ns)
        for live in sorted([*self.positions.values(), *self.pending.values()],
                           key=lambda x: x.symbol):  # fmt: skip
            if ending or int(live.ns[-1]) <= ns:
                if live.filled:  # sold at the last close seen: the data end here
                    level = live.last_price
                    price = slipped(level, self.risk, live.slip, -1)
                    self.close(live, level, price, live.last_ns, "end_of_data")
                else:
                    del self.pending[live.symbol]
                    self.waiting[live.code] = False
                    self.rejected["cancelled_end_of_data"] += 1
        if hi > lo:
            if ending:
                self.rejected["end_of_data"] += hi - lo  # nothing left to trade them on
            else:
                self.offer_all(ns, lo, hi)
        positions = self.positions_value()
        equity = self.cash + positions
        self.equity.append((equity, self.cash, positions / equity if equity > 0 else 0.0))

    def offer_all(self, ns: int, lo: int, hi: int) -> None:
        """The session's offers in order, as `portfolio.allocate` would take them."""
        for i in range(lo, hi):
            if len(self.positions) + len(self.pending) >= self.risk.max_positions:
                self.refuse_rest(ns, i, hi)
                return
            self.offer(i, ns)

    def refuse_rest(self, ns: int, lo: int, hi: int) -> None:
        """Every slot taken: each offer gets `gate`'s first reason, counted in one pass."""
        o = self.offers
        entry, stop, target = o.entry[lo:hi], o.stop[lo:hi], o.target[lo:hi]
        codes = o.sym[lo:hi]
        left = (stop < entry) & (entry < target)
        counts = {"invalid_levels": int((~left).sum())}
        for reason, hit in (
            ("stale", self.last_bar[codes] > ns),
            ("already_held", self.held[codes]),
            ("already_pending", self.waiting[codes]),
        ):
            counts[reason] = int((left & hit).sum())
            left &= ~hit
        counts["max_positions"] = int(left.sum())
        for reason, n in counts.items():
            if n:
                self.rejected[reason] += n

    def offer(self, i: int, ns: int) -> None:
        """`sizing.precheck` then `allocate` (and, entering at the close, the fill)."""
        entry, stop, target = self.entry_px[i], self.stop_px[i], self.target_px[i]
        code = self.sym[i]
        symbol = self.offers.symbols[code]
        if not stop < entry < target:
            self.rejected["invalid_levels"] += 1
            return
        if int(self.last_bar[code]) > ns:
            self.rejected["stale"] += 1
            return
        if symbol in self.positions:
            self.rejected["already_held"] += 1
            return
        if symbol in self.pending:
            self.rejected["already_pending"] += 1
            return
        equity = self.cash + self.positions_value()
        quantity, refused = sized(caps_for(entry, stop, equity, self.available_cash(), self.risk))
        if refused is not None:
            self.rejected[refused] += 1
            return
        series_ns, values = self.bars.arrays(symbol)
        live = _Live(
            row=i, symbol=symbol, code=code, quantity=float(quantity),
            reserved=reservation(float(quantity), entry, self.risk), signal_ns=ns,
            stop=stop, target=target,
            slip=None if self.slippage_atr is None else self.slippage_atr * self.atr[i],
            ns=series_ns, values=values,
        )  # fmt: skip
        self.pending[symbol] = live
        self.waiting[code] = True
        if self.entry == "close":
            k = int(np.searchsorted(series_ns, ns))
            assert int(series_ns[min(k, series_ns.shape[0] - 1)]) == ns  # its session's bar
            self.fill_entry(live, float(values[k, 3]), ns)
            if live.filled:
                self.last_bar[code] = ns  # `mark`, as the reference's fill at the close

    def trades(self) -> list[BacktestTrade]:
        """The closed trades as records, in the order they closed."""
        o = self.offers
        out = []
        for seq, (i, entry_ns, entry_price, exit_ns, exit_price, reason, quantity, fees,
                  slippage, pnl, return_pct, bars_held) in enumerate(self.closed, 1):  # fmt: skip
            symbol, setup = o.symbols[int(o.sym[i])], o.setups[int(o.setup[i])]
            signal_ts = _ts(int(o.ns[i]))
            stop, target = self.stop_px[i], self.target_px[i]
            risk_money = quantity * (entry_price - stop)
            base, conf, ml, timing = (None if x != x else x for x in o.scores[i].tolist())
            out.append(
                BacktestTrade(
                    seq=seq, symbol=symbol, setup=setup,
                    signal_id=signal_id(symbol, signal_ts, setup), signal_ts=signal_ts,
                    entry_ts=_ts(entry_ns), entry_price=entry_price, exit_ts=_ts(exit_ns),
                    exit_price=exit_price, exit_reason=reason, quantity=quantity, stop=stop,
                    target=target, fees=fees, slippage=slippage, pnl=pnl,
                    return_pct=return_pct,
                    r_multiple=pnl / risk_money if risk_money > 0 else None,
                    bars_held=bars_held, base_signal=base, confirmation=conf,
                    ml_confidence=ml, entry_timing=timing, total=float(o.total[i]),
                )
            )  # fmt: skip
        return out


def simulate_offers(
    bars: BarIndex,
    sessions: npt.NDArray[np.int64],
    offers: Offers,
    risk: RiskSettings,
    *,
    entry: Entry = "next_open",
    slippage_atr: float | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """`simulate.simulate` of `offers` over `sessions` (int64 ns, ascending): the same
    trades, equity and rejections (offers on other sessions are never seen)."""
    report = progress or no_progress
    loop = _FastLoop(bars, offers, risk, entry, slippage_atr)
    total = len(sessions)
    step = max(1, total // 100)
    starts = np.searchsorted(offers.ns, sessions, side="left").tolist()
    ends = np.searchsorted(offers.ns, sessions, side="right").tolist()
    for k, ns in enumerate(sessions.tolist()):
        loop.session(ns, starts[k], ends[k], ending=k == total - 1)
        if k % step == 0 or k == total - 1:
            report("simulate", k + 1, total)
    return Simulation(loop.trades(), loop.equity, loop.rejected)
