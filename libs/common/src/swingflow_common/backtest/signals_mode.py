"""The signal-driven backtest: given entry and exit signals per symbol and bar (as
vectorbt's `Portfolio.from_signals` takes them), trades under the fill rules of
`portfolio.fills`, fast enough to compare against other engines.

Fill rules (docs/backtest.md, "Signal-driven mode", says the same at more length):

* A signal is seen at its bar's close. An entry fills at the next bar's open
  (`entry="next_open"`) or at the signal bar's close (`entry="close"`); exit signals fill
  the same way. An entry needs the symbol flat at that close and no exit signal on the
  same bar; an entry signal while a position is held is ignored.
* Buys pay adverse slippage (`slippage_bps` of the price, or instead `slippage_atr` x the
  signal bar's ATR a share, as in the pipeline engine) and commission;
  stop and target levels are set from the price paid (`stop_pct` of it, or `stop_atr`
  ATRs of the signal bar below it; likewise the target above).
* Each bar, from the entry bar's open on: a gap through the stop or target fills at the
  open; inside the range the stop fills at its level (also when the target is in the same
  bar: the conservative reading), else the target at its level; then the time exit at the
  close after `max_bars_held` bars (the entry bar counting 1 for next-open entries, the
  bar after it for close entries); then an exit signal. Market exits pay slippage, the
  target (a limit order) does not; every sell pays commission. A position still open at a
  symbol's last bar closes at that close (`end_of_data`).
* Positions are per symbol and independent: no shared cash limit, so cash may go below
  zero and exposure above 1 when the sizes add up to more than the account.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field, model_validator

from swingflow_common.backtest.result import BacktestResult, BacktestTrade, EquityPoint
from swingflow_common.backtest.signal_file import SignalTable
from swingflow_common.backtest.signals_kernel import (
    REASONS,
    Floats,
    SimulatedTrades,
    Sizing,
    simulate_arrays,
)
from swingflow_common.config import RiskSettings
from swingflow_common.data.dataset import Dataset
from swingflow_common.progress import Progress, no_progress

__all__ = [
    "SignalOptions",
    "SignalTable",
    "SimulatedTrades",
    "run_signal_backtest",
    "simulate_arrays",
]

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]
Multiple = Annotated[float, Field(gt=0.0, le=100.0)]
Bps = Annotated[float, Field(ge=0.0, le=1000.0)]


class SignalOptions(BaseModel):
    """How the signal-driven mode trades. Fractions are fractions (0.08 = 8 %), costs in
    basis points. At most one of `stop_pct`/`stop_atr` and of `target_pct`/`target_atr`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stop_pct: Fraction | None = None
    stop_atr: Multiple | None = None
    target_pct: Annotated[float, Field(gt=0.0, le=100.0)] | None = None
    target_atr: Multiple | None = None
    commission_bps: Bps = 5.0
    slippage_bps: Bps = 5.0
    slippage_atr: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    entry: Literal["next_open", "close"] = "next_open"
    max_bars_held: Annotated[int, Field(ge=1, le=100_000)] | None = None
    sizing: Sizing = "fixed_cash"
    size: Annotated[float, Field(gt=0.0)] = 10_000.0
    whole_shares: bool = True
    initial_cash: Annotated[float, Field(gt=0.0)] = 100_000.0
    atr_period: Annotated[int, Field(ge=2, le=200)] = 14

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if self.stop_pct is not None and self.stop_atr is not None:
            raise ValueError("give stop_pct or stop_atr, not both")
        if self.target_pct is not None and self.target_atr is not None:
            raise ValueError("give target_pct or target_atr, not both")
        if self.sizing == "equity_fraction" and self.size > 1.0:
            raise ValueError("sizing equity_fraction takes a size in (0, 1]")
        return self

    @property
    def needs_atr(self) -> bool:
        return any(v is not None for v in (self.stop_atr, self.target_atr, self.slippage_atr))

    @classmethod
    def from_risk(cls, risk: RiskSettings, **overrides: object) -> SignalOptions:
        """The config's risk settings as signal-mode options (ATR stop and target,
        commission, slippage, time exit, cash, and its max weight as equity fraction)."""
        values: dict[str, object] = {
            "stop_atr": risk.stop_atr_multiple,
            "target_atr": risk.target_atr_multiple,
            "commission_bps": risk.commission_bps,
            "slippage_bps": risk.slippage_bps,
            "max_bars_held": risk.max_bars_held,
            "initial_cash": risk.initial_cash,
            "atr_period": risk.atr_period,
            "sizing": "equity_fraction",
            "size": risk.max_weight_per_symbol,
        }
        values.update(overrides)
        return cls.model_validate(values)


def run_signal_backtest(
    dataset: Dataset,
    entries: SignalTable,
    options: SignalOptions,
    *,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> BacktestResult:
    """Backtest the given signals (`entries` holds entries and exits) on `dataset`.

    The universe is the table's symbols (each must be in the dataset, and each signal must
    fall on one of that symbol's bars: a `ValueError` names the first that does not).
    """
    report = progress or no_progress
    report("prepare", 0, 3)
    symbols = list(entries.symbols)
    if not symbols:
        raise ValueError("the signal table has no symbols")
    missing = [s for s in symbols if s not in dataset.bars]
    if missing:
        raise ValueError(f"{dataset.name} has no bars for {', '.join(missing[:10])}")
    data = dataset.select(symbols)
    dates = data.dates
    o, h, lo, c = _panels(data, dates)
    ent = _on_bars(entries.entries, dates, symbols, o, "entry")
    ext = _on_bars(entries.exits, dates, symbols, o, "exit")
    atr = _atr_panel(data, dates, options.atr_period) if options.needs_atr else None
    report("simulate", 1, 3)
    kernel_options = options.model_dump(include=_KERNEL_OPTIONS)
    sim = simulate_arrays(o, h, lo, c, ent, ext, atr=atr, **kernel_options)
    report("report", 2, 3)
    trades = _trades(sim, dates, symbols)
    equity = _equity(sim, dates, c, options.initial_cash)
    result = BacktestResult(
        id=run_id or uuid.uuid4().hex,
        mode="signals",
        dataset=dataset.name,
        symbols=tuple(symbols),
        start=dates[0].date(),
        end=dates[-1].date(),
        created_at=datetime.now(UTC),
        config={
            **options.model_dump(mode="json"),
            "entries": entries.n_entries,
            "exits": entries.n_exits,
        },
        initial_cash=options.initial_cash,
        trades=trades,
        equity=equity,
        **_figures(trades, equity, options.initial_cash),
    )
    report("report", 3, 3)
    return result


def _figures(
    trades: tuple[BacktestTrade, ...], equity: tuple[EquityPoint, ...], cash0: float
) -> dict[str, Any]:
    """The same metrics the pipeline engine reports (imported here, so the kernel and the
    options work without the report's dependencies)."""
    from swingflow_common.backtest.metrics import (
        compute_metrics,
        group_metrics,
        monthly_returns,
    )

    return {
        "metrics": compute_metrics(trades, equity, cash0),
        "by_symbol": group_metrics(trades, lambda t: t.symbol),
        "by_setup": group_metrics(trades, lambda t: t.setup),
        "by_exit_reason": group_metrics(trades, lambda t: t.exit_reason),
        "monthly": monthly_returns(equity),
    }


_KERNEL_OPTIONS = {
    "stop_pct",
    "stop_atr",
    "target_pct",
    "target_atr",
    "commission_bps",
    "slippage_bps",
    "slippage_atr",
    "entry",
    "max_bars_held",
    "sizing",
    "size",
    "initial_cash",
    "whole_shares",
}


def _panels(data: Dataset, dates: pd.DatetimeIndex) -> list[Floats]:
    """Open, high, low and close as (dates x symbols) arrays, NaN where a symbol has no bar
    (`Dataset.panel` does the same through pandas, some 20x slower for 1,000 symbols)."""
    out = [np.full((len(dates), len(data.bars)), np.nan) for _ in range(4)]
    grid = _ns(dates)
    for j, symbol in enumerate(data.bars):
        frame = data.bars[symbol]
        rows = np.searchsorted(grid, _ns(frame.index))  # every bar's date is on the grid
        where = [frame.columns.get_loc(k) for k in ("open", "high", "low", "close")]
        values = frame.to_numpy(np.float64)
        for k in range(4):
            out[k][rows, j] = values[:, where[k]]
    return out


def _ns(index: pd.Index) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(index).as_unit("ns").asi8


def _on_bars(
    flags: pd.DataFrame, dates: pd.DatetimeIndex, symbols: list[str], opens: Floats, action: str
) -> npt.NDArray[np.bool_]:
    """The signal frame on the panel's grid; a signal off the symbol's bars is an error."""
    out = np.zeros(opens.shape, dtype=np.bool_)
    if flags.empty:
        return out
    rows = dates.get_indexer(pd.DatetimeIndex(flags.index).as_unit(dates.unit))
    cols = pd.Index(symbols).get_indexer(flags.columns)
    r, k = np.nonzero(flags.to_numpy(dtype=bool))
    ok = (rows[r] >= 0) & (cols[k] >= 0)
    ok[ok] = ~np.isnan(opens[rows[r[ok]], cols[k[ok]]])
    if not ok.all():
        i = int(np.argmin(ok))
        day = flags.index[r[i]].strftime("%Y-%m-%d")
        raise ValueError(f"{action} signal for {flags.columns[k[i]]} on {day}: no bar that day")
    out[rows[r], cols[k]] = True
    return out


def _atr_panel(data: Dataset, dates: pd.DatetimeIndex, period: int) -> np.ndarray:
    """Wilder's ATR (TA-Lib) of each symbol over its own bars, on the panel's grid."""
    frames = {}
    for symbol in data.symbols:
        bars = data.bars[symbol]
        values = talib.ATR(
            bars["high"].to_numpy(np.float64),
            bars["low"].to_numpy(np.float64),
            bars["close"].to_numpy(np.float64),
            timeperiod=period,
        )
        frames[symbol] = pd.Series(values, index=bars.index)
    return pd.concat(frames, axis=1).reindex(dates)[list(data.symbols)].to_numpy()


def _trades(
    sim: SimulatedTrades, dates: pd.DatetimeIndex, symbols: list[str]
) -> tuple[BacktestTrade, ...]:
    """Kernel records as contract trades, numbered in entry order. Built without
    re-validation (`model_construct`): every value is already of the contract's type, and
    validating tens of thousands of trades would cost more than the simulation."""
    order = np.lexsort((sim.column, sim.entry_bar))
    stamps = dates.to_pydatetime()
    out = []
    for seq, k in enumerate(order, start=1):
        q = float(sim.quantity[k])
        entry = float(sim.entry_price[k])
        stop = _opt(sim.stop[k])
        pnl = float(sim.pnl[k])
        risk = q * (entry - stop) if stop is not None else 0.0
        symbol = symbols[sim.column[k]]
        signal_ts = stamps[sim.signal_bar[k]]
        out.append(
            BacktestTrade.model_construct(
                seq=seq,
                symbol=symbol,
                setup="signal",
                signal_id=f"signal:{symbol}:{signal_ts:%Y-%m-%d}",
                signal_ts=signal_ts,
                entry_ts=stamps[sim.entry_bar[k]],
                entry_price=entry,
                exit_ts=stamps[sim.exit_bar[k]],
                exit_price=float(sim.exit_price[k]),
                exit_reason=REASONS[sim.reason[k]],
                quantity=q,
                stop=stop,
                target=_opt(sim.target[k]),
                fees=float(sim.fees[k]),
                slippage=float(sim.slippage[k]),
                pnl=pnl,
                return_pct=pnl / (q * entry),
                r_multiple=pnl / risk if risk > 0 else None,
                bars_held=int(sim.bars_held[k]),
            )
        )
    return tuple(out)


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _equity(
    sim: SimulatedTrades, dates: pd.DatetimeIndex, closes: Floats, cash0: float
) -> tuple[EquityPoint, ...]:
    """The account per session, with equal-weight buy-and-hold of the universe beside it
    (each symbol gets an equal share of the cash, bought at its first close and held; its
    value stays at its last close after its last bar)."""
    equity = sim.cash + sim.positions_value
    seen = ~np.isnan(closes)
    last_row = np.maximum.accumulate(np.where(seen, np.arange(len(dates))[:, None], 0), axis=0)
    filled = np.take_along_axis(closes, last_row, axis=0)
    first = closes[seen.argmax(axis=0), np.arange(closes.shape[1])]
    started = np.maximum.accumulate(seen, axis=0)
    held = np.where(started, filled / first, 1.0)  # before its first bar: cash
    benchmark = cash0 * held.mean(axis=1)
    exposure = np.divide(sim.positions_value, equity, out=np.zeros_like(equity), where=equity > 0)
    return tuple(
        EquityPoint.model_construct(
            day=d.date(), equity=float(e), cash=float(c), exposure=float(x), benchmark=float(b)
        )
        for d, e, c, x, b in zip(dates, equity, sim.cash, exposure, benchmark, strict=True)
    )
