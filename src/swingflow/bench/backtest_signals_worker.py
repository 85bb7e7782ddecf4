"""One engine's side of the signal-driven benchmark, in a fresh interpreter so first-call
(import, JIT) costs are those a user meets: `python -m swingflow.bench.backtest_signals_worker
ENGINE SYMBOLS BARS`, one JSON line on stdout.

Every engine gets the same entries: RSI(14) below 30 on a synthetic universe (the same seed
gives the same bars), long only, an 8 % stop, a 20-bar time exit, 5 bps commission and 5
bps slippage, 10,000 a trade, entries at the next open.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import talib

from swingflow_common.data import load

STOP, MAX_BARS, COST, CASH_PER_TRADE = 0.08, 20, 0.0005, 10_000.0
WARM_REPEATS = 5


def panels(symbols: int, bars: int) -> dict[str, pd.DataFrame]:
    ds = load(f"synthetic:{symbols}x{bars}")
    out = {k: ds.panel(k) for k in ("open", "high", "low", "close")}
    rsi = out["close"].apply(lambda c: pd.Series(talib.RSI(c.to_numpy(), 14), index=c.index))
    out["entries"] = rsi < 30
    return out


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def ours(p: dict[str, pd.DataFrame]) -> dict[str, Any]:
    import_s, mode = _timed(
        lambda: importlib.import_module("swingflow_common.backtest.signals_mode")
    )
    kernel = mode.simulate_arrays
    arrays = [p[k].to_numpy() for k in ("open", "high", "low", "close")]
    entries = p["entries"].to_numpy()
    exits = np.zeros_like(entries)

    def call() -> Any:
        return kernel(*arrays, entries, exits, stop_pct=STOP, max_bars_held=MAX_BARS,
                      commission_bps=COST * 1e4, slippage_bps=COST * 1e4,
                      sizing="fixed_cash", size=CASH_PER_TRADE, whole_shares=False)  # fmt: skip

    first_s, sim = _timed(call)
    warm = [_timed(call)[0] for _ in range(WARM_REPEATS)]
    return {"import_s": import_s, "first_call_s": first_s, "warm_s": statistics.median(warm),
            "warm_runs_s": warm, "trades": len(sim.pnl)}  # fmt: skip


def ours_full(p: dict[str, pd.DataFrame], symbols: int, bars: int) -> dict[str, Any]:
    """The whole `run_signal_backtest`: panels from the dataset, kernel, contract trades,
    equity curve and metrics."""
    from swingflow_common.backtest.signals_mode import (
        SignalOptions,
        SignalTable,
        run_signal_backtest,
    )

    ds = load(f"synthetic:{symbols}x{bars}")
    table = SignalTable.from_frames(p["entries"])
    options = SignalOptions(stop_pct=STOP, max_bars_held=MAX_BARS, commission_bps=COST * 1e4,
                            slippage_bps=COST * 1e4, sizing="fixed_cash", size=CASH_PER_TRADE,
                            whole_shares=False)  # fmt: skip
    first_s, result = _timed(lambda: run_signal_backtest(ds, table, options))
    warm = [_timed(lambda: run_signal_backtest(ds, table, options))[0] for _ in range(3)]
    return {"first_call_s": first_s, "warm_s": statistics.median(warm), "warm_runs_s": warm,
            "trades": len(result.trades)}  # fmt: skip


def numba_floor() -> dict[str, Any]:
    """What numba costs anyone in a new process: its import, and compiling and calling a
    one-line function (the first call also loads numba's own machinery)."""
    import_s, numba = _timed(lambda: __import__("numba"))
    f = numba.njit(lambda x: x + 1)
    first_s, _ = _timed(lambda: f(1))
    return {"import_s": import_s, "first_call_s": first_s}


def vectorbt(p: dict[str, pd.DataFrame]) -> dict[str, Any]:
    import_s, vbt = _timed(lambda: __import__("vectorbt"))
    # vectorbt fills at `price` on the signal's own bar: shift the entries one bar and pay the
    # open to fill at the next open. It has no time exit: an exit 20 bars after each entry
    # signal stands in for it (the same work for the engine, not the same trades).
    entries = p["entries"].shift(1, fill_value=False)
    exits = entries.shift(MAX_BARS - 1, fill_value=False)

    def call() -> Any:
        return vbt.Portfolio.from_signals(
            p["close"], entries, exits, price=p["open"], open=p["open"], high=p["high"],
            low=p["low"], sl_stop=STOP, fees=COST, slippage=COST, size=CASH_PER_TRADE,
            size_type="value", init_cash=1e9, freq="1D",
        )  # fmt: skip

    first_s, pf = _timed(call)
    warm = [_timed(call)[0] for _ in range(WARM_REPEATS)]
    return {"import_s": import_s, "first_call_s": first_s, "warm_s": statistics.median(warm),
            "warm_runs_s": warm, "trades": int(pf.trades.count().sum())}  # fmt: skip


def backtesting_py(p: dict[str, pd.DataFrame]) -> dict[str, Any]:
    import_s, bt = _timed(lambda: __import__("backtesting"))
    trades = 0

    def one(symbol: str) -> int:
        frame = pd.DataFrame({k.title(): p[k][symbol] for k in ("open", "high", "low", "close")})
        frame.index = pd.DatetimeIndex(frame.index).tz_convert(None)
        frame = frame.dropna()
        entries = p["entries"][symbol].reindex(frame.index).to_numpy(dtype=bool)

        class Rsi(bt.Strategy):  # type: ignore[misc, name-defined]
            def init(self) -> None:
                pass

            def next(self) -> None:
                i = len(self.data) - 1
                if self.position:
                    trade = self.trades[-1]
                    if i - trade.entry_bar + 1 >= MAX_BARS:
                        trade.close()  # at the next open: its market orders fill there
                elif entries[i]:
                    price = self.data.Close[-1]
                    self.buy(size=int(CASH_PER_TRADE // price), sl=price * (1 - STOP))

        run = bt.Backtest(frame, Rsi, cash=1e9, commission=COST, spread=2 * COST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return int(run.run()["# Trades"])

    t0 = time.perf_counter()
    for symbol in p["close"].columns:
        trades += one(symbol)
    return {"import_s": import_s, "run_s": time.perf_counter() - t0, "trades": trades}


def main(argv: list[str]) -> int:
    engine, symbols, bars = argv[0], int(argv[1]), int(argv[2])
    if engine == "numba_floor":
        out = numba_floor()
    else:
        p = panels(symbols, bars)
        runners = {"ours": lambda: ours(p), "vectorbt": lambda: vectorbt(p),
                   "backtesting_py": lambda: backtesting_py(p),
                   "ours_full": lambda: ours_full(p, symbols, bars)}  # fmt: skip
        out = runners[engine]()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
