"""The signal-driven simulation on 2-D arrays (bars x symbols), compiled with numba.

One loop over bars, and inside it over symbols, applies the fill rules of
`portfolio.fills` (documented there and in docs/backtest.md) to each symbol's own
position: at most one long position per symbol, symbols independent of one another (no
shared cash limit, as vectorbt's from_signals per column), so a symbol's trades never
depend on another's. Only `sizing="equity_fraction"` reads the whole account (its equity
at the previous bar's close), which is why the loop runs bars outermost.

`cache=True` compiles once per machine (into `__pycache__`); later processes load the
machine code. A NaN open marks "no bar for this symbol on this date".
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from swingflow_common.backtest.result import ExitReason

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Sizing = Literal["fixed_cash", "equity_fraction", "fixed_quantity"]

REASONS: tuple[ExitReason, ...] = ("stop", "target", "time", "exit_signal", "end_of_data")
STOP, TARGET, TIME, EXIT_SIGNAL, END_OF_DATA = range(5)
_SIZING: dict[str, int] = {"fixed_cash": 0, "equity_fraction": 1, "fixed_quantity": 2}
_EPS = 1e-9


class SimulatedTrades(NamedTuple):
    """Closed trades as parallel arrays (one element a trade, ordered by exit bar then
    symbol column) and the account per bar. Bars are row indices of the input arrays;
    `reason` indexes `REASONS`; prices include slippage; `fees` is the commission of both
    sides, `slippage` the money lost to slippage on both sides, `pnl` net of both."""

    column: Ints
    signal_bar: Ints
    entry_bar: Ints
    exit_bar: Ints
    entry_price: Floats
    exit_price: Floats
    quantity: Floats
    stop: Floats  # NaN without a stop
    target: Floats  # NaN without a target
    reason: Ints
    bars_held: Ints
    fees: Floats
    slippage: Floats
    pnl: Floats
    cash: Floats  # per bar, after the bar
    positions_value: Floats  # per bar: open positions at their last close


def simulate_arrays(
    open: Floats,
    high: Floats,
    low: Floats,
    close: Floats,
    entries: Bools,
    exits: Bools,
    *,
    atr: Floats | None = None,
    stop_pct: float | None = None,
    stop_atr: float | None = None,
    target_pct: float | None = None,
    target_atr: float | None = None,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
    slippage_atr: float | None = None,
    entry: Literal["next_open", "close"] = "next_open",
    max_bars_held: int | None = None,
    sizing: Sizing = "fixed_quantity",
    size: float = 1.0,
    initial_cash: float = 100_000.0,
    whole_shares: bool = True,
) -> SimulatedTrades:
    """Simulate long trades from entry/exit signals on (bars x symbols) arrays.

    `stop_pct`/`target_pct` are fractions of the entry price (0.08 = 8 %), `stop_atr`/
    `target_atr` multiples of the ATR at the signal bar (`atr` required then, and for
    `slippage_atr`). Slippage is `slippage_bps` of each market fill's price or, with
    `slippage_atr`, that fraction of the signal bar's ATR a share on every market fill of
    the trade (as the pipeline engine's; a sell never below 1 % of its level).
    Sizing: `fixed_cash` spends `size` money a trade, `equity_fraction` spends `size` x the
    equity at the previous bar's close, `fixed_quantity` buys `size` shares; with
    `whole_shares` the count is rounded down and a trade of 0 shares skipped.
    """
    shape = open.shape
    for name, arr in (
        ("high", high),
        ("low", low),
        ("close", close),
        ("entries", entries),
        ("exits", exits),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, open has {shape}")
    needs_atr = stop_atr is not None or target_atr is not None or slippage_atr is not None
    if needs_atr and (atr is None or atr.shape != shape):
        raise ValueError(
            "stop_atr, target_atr and slippage_atr need an `atr` array shaped like open"
        )
    nan = float("nan")
    out = _simulate(
        np.ascontiguousarray(open, dtype=np.float64),
        np.ascontiguousarray(high, dtype=np.float64),
        np.ascontiguousarray(low, dtype=np.float64),
        np.ascontiguousarray(close, dtype=np.float64),
        np.ascontiguousarray(entries, dtype=np.bool_),
        np.ascontiguousarray(exits, dtype=np.bool_),
        np.ascontiguousarray(atr if atr is not None else np.empty((1, 1)), dtype=np.float64),
        nan if stop_pct is None else float(stop_pct),
        nan if stop_atr is None else float(stop_atr),
        nan if target_pct is None else float(target_pct),
        nan if target_atr is None else float(target_atr),
        commission_bps * 1e-4,
        slippage_bps * 1e-4,
        nan if slippage_atr is None else float(slippage_atr),
        entry == "close",
        0 if max_bars_held is None else int(max_bars_held),
        _SIZING[sizing],
        float(size),
        float(initial_cash),
        whole_shares,
        int(np.count_nonzero(entries)),
    )
    return SimulatedTrades(*out)


@numba.njit(cache=True, nogil=True)
def _simulate(
    o: Floats,
    h: Floats,
    lo: Floats,
    c: Floats,
    ent: Bools,
    ext: Bools,
    atr: Floats,
    stop_pct: float,
    stop_atr: float,
    target_pct: float,
    target_atr: float,
    comm: float,
    slip: float,
    slip_atr: float,
    at_close: bool,
    max_bars: int,
    sizing: int,
    size: float,
    cash0: float,
    whole: bool,
    capacity: int,
) -> tuple[npt.NDArray[Any], ...]:
    n_bars, n_sym = o.shape
    use_atr = atr.shape == o.shape
    by_atr = not np.isnan(slip_atr)  # slippage as an ATR amount instead of bps
    needs_atr = use_atr and (not np.isnan(stop_atr) or not np.isnan(target_atr) or by_atr)
    # the last bar of each symbol: a position still open there closes at its close
    last = np.full(n_sym, -1, np.int64)
    for t in range(n_bars):
        for s in range(n_sym):
            if not np.isnan(o[t, s]):
                last[s] = t
    r_col = np.empty(capacity, np.int64)
    r_sig = np.empty(capacity, np.int64)
    r_ent = np.empty(capacity, np.int64)
    r_ext = np.empty(capacity, np.int64)
    r_pin = np.empty(capacity)
    r_pout = np.empty(capacity)
    r_qty = np.empty(capacity)
    r_stop = np.empty(capacity)
    r_tgt = np.empty(capacity)
    r_why = np.empty(capacity, np.int64)
    r_held = np.empty(capacity, np.int64)
    r_fees = np.empty(capacity)
    r_slip = np.empty(capacity)
    r_pnl = np.empty(capacity)
    cash_t = np.empty(n_bars)
    value_t = np.empty(n_bars)

    qty = np.zeros(n_sym)
    p_in = np.zeros(n_sym)
    stop = np.full(n_sym, np.nan)
    tgt = np.full(n_sym, np.nan)
    held = np.zeros(n_sym, np.int64)
    sig_bar = np.full(n_sym, -1, np.int64)
    in_bar = np.full(n_sym, -1, np.int64)
    fee_in = np.zeros(n_sym)
    slip_in = np.zeros(n_sym)
    pend_in = np.full(n_sym, -1, np.int64)  # signal bar of an entry waiting for the open
    pend_out = np.zeros(n_sym, np.bool_)  # an exit signal waiting for the open
    last_close = np.zeros(n_sym)
    slip_amt = np.zeros(n_sym)  # with slippage_atr: the price amount a share, set at entry
    cash = cash0
    equity_prev = cash0
    n = 0
    for t in range(n_bars):
        for s in range(n_sym):
            op = o[t, s]
            if np.isnan(op):
                continue
            hi = h[t, s]
            lw = lo[t, s]
            cl = c[t, s]
            a_now = atr[t, s] if use_atr else np.nan
            level = 0.0  # the exit's reference price before slippage
            why = -1
            if qty[s] > 0.0:
                held[s] += 1
                if pend_out[s]:
                    level = op
                    why = EXIT_SIGNAL
            elif pend_in[s] >= 0:
                a_sig = atr[pend_in[s], s] if use_atr else np.nan
                if not (needs_atr and np.isnan(a_sig)):  # levels unknown in the ATR warm-up
                    amount = slip_atr * a_sig if by_atr else op * slip
                    filled = op + amount
                    q = _quantity(sizing, size, equity_prev, filled, comm, whole)
                    if q > 0.0:
                        _open(
                            s,
                            t,
                            q,
                            filled,
                            op,
                            a_sig,
                            comm,
                            stop_pct,
                            stop_atr,
                            target_pct,
                            target_atr,
                            qty,
                            p_in,
                            stop,
                            tgt,
                            in_bar,
                            fee_in,
                            slip_in,
                        )
                        cash -= q * filled * (1.0 + comm)
                        slip_amt[s] = amount
                        held[s] = 1  # the entry bar counts 1
                        sig_bar[s] = pend_in[s]
                pend_in[s] = -1
            if qty[s] > 0.0 and why < 0:
                st = stop[s]
                tg = tgt[s]
                if op <= st:
                    level, why = op, STOP
                elif op >= tg:
                    level, why = op, TARGET
                elif lw <= st:
                    level, why = st, STOP
                elif hi >= tg:
                    level, why = tg, TARGET
                elif max_bars > 0 and held[s] >= max_bars:
                    level, why = cl, TIME
                elif ext[t, s] and at_close:
                    level, why = cl, EXIT_SIGNAL
                elif t == last[s]:
                    level, why = cl, END_OF_DATA
                elif ext[t, s]:
                    pend_out[s] = True
            if why >= 0:
                if why == TARGET:
                    price = level  # a resting limit order: no slippage
                else:
                    amount = slip_amt[s] if by_atr else level * slip
                    price = max(level - amount, 0.01 * level)  # as portfolio.fills.slipped
                q = qty[s]
                fee_out = q * price * comm
                cash += q * price - fee_out
                r_col[n] = s
                r_sig[n] = sig_bar[s]
                r_ent[n] = in_bar[s]
                r_ext[n] = t
                r_pin[n] = p_in[s]
                r_pout[n] = price
                r_qty[n] = q
                r_stop[n] = stop[s]
                r_tgt[n] = tgt[s]
                r_why[n] = why
                r_held[n] = held[s]
                r_fees[n] = fee_in[s] + fee_out
                r_slip[n] = slip_in[s] + q * (level - price)
                r_pnl[n] = q * (price - p_in[s]) - fee_in[s] - fee_out
                n += 1
                qty[s] = 0.0
                pend_out[s] = False
            if qty[s] == 0.0 and ent[t, s] and not ext[t, s] and t < last[s]:
                if at_close:
                    if needs_atr and np.isnan(a_now):
                        q = 0.0  # levels unknown in the ATR warm-up
                    else:
                        amount = slip_atr * a_now if by_atr else cl * slip
                        filled = cl + amount
                        q = _quantity(sizing, size, equity_prev, filled, comm, whole)
                    if q > 0.0:
                        _open(
                            s,
                            t,
                            q,
                            filled,
                            cl,
                            a_now,
                            comm,
                            stop_pct,
                            stop_atr,
                            target_pct,
                            target_atr,
                            qty,
                            p_in,
                            stop,
                            tgt,
                            in_bar,
                            fee_in,
                            slip_in,
                        )
                        cash -= q * filled * (1.0 + comm)
                        slip_amt[s] = amount
                        held[s] = 0  # exposed from the next bar on, which counts 1
                        sig_bar[s] = t
                else:
                    pend_in[s] = t
            last_close[s] = cl
        value = 0.0
        for s in range(n_sym):
            if qty[s] > 0.0:
                value += qty[s] * last_close[s]
        cash_t[t] = cash
        value_t[t] = value
        equity_prev = cash + value
    return (
        r_col[:n],
        r_sig[:n],
        r_ent[:n],
        r_ext[:n],
        r_pin[:n],
        r_pout[:n],
        r_qty[:n],
        r_stop[:n],
        r_tgt[:n],
        r_why[:n],
        r_held[:n],
        r_fees[:n],
        r_slip[:n],
        r_pnl[:n],
        cash_t,
        value_t,
    )


@numba.njit(cache=True, nogil=True)
def _quantity(
    sizing: int, size: float, equity: float, price: float, comm: float, whole: bool
) -> float:
    if sizing == 0:
        q = size / (price * (1.0 + comm))
    elif sizing == 1:
        q = size * equity / (price * (1.0 + comm))
    else:
        q = size
    if whole:
        q = np.floor(q + _EPS)
    return q if q > 0.0 else 0.0


@numba.njit(cache=True, nogil=True)
def _open(
    s: int,
    t: int,
    q: float,
    price: float,
    ref: float,
    a_sig: float,
    comm: float,
    stop_pct: float,
    stop_atr: float,
    target_pct: float,
    target_atr: float,
    qty: Floats,
    p_in: Floats,
    stop: Floats,
    tgt: Floats,
    in_bar: Ints,
    fee_in: Floats,
    slip_in: Floats,
) -> None:
    qty[s] = q
    p_in[s] = price
    in_bar[s] = t
    fee_in[s] = q * price * comm
    slip_in[s] = q * (price - ref)
    # levels are set from the price paid, like vectorbt's sl_stop / tp_stop
    st = np.nan
    if not np.isnan(stop_pct):
        st = price * (1.0 - stop_pct)
    elif not np.isnan(stop_atr):
        st = price - stop_atr * a_sig
    tg = np.nan
    if not np.isnan(target_pct):
        tg = price * (1.0 + target_pct)
    elif not np.isnan(target_atr):
        tg = price + target_atr * a_sig
    stop[s] = st
    tgt[s] = tg
