"""The signal-driven backtest beside backtesting.py and vectorbt (issue 6's budgets).

Same entries for every engine (RSI(14) below 30, long, 8 % stop, 20-bar time exit, costs
both sides) on 1,000 synthetic symbols x 750 bars; each engine runs in its own fresh
interpreter (`backtest_signals_worker`), so first-call costs are what a user meets:

* ours: `simulate_arrays` (the kernel) warm, its first call with numba's on-disk cache
  (the usual case) and with an empty cache (the compile, paid once per machine), and the
  whole `run_signal_backtest` (panels, kernel, contract trades, equity, metrics);
* backtesting.py: one `Backtest` per symbol on the first 100 symbols, scaled x10;
* vectorbt's `Portfolio.from_signals`: warm, and its first call (JIT) in a new process.

Budgets: ours at least 100x faster than backtesting.py, and within 2x of vectorbt warm.
The trade counts differ by design (vectorbt has no time exit, so an exit signal 20 bars
after each entry stands in; backtesting.py places its time exit at the next open): this
measures speed; the trade-for-trade check is libs/common/tests/backtest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from rich.console import Console
from rich.table import Table

from swingflow.bench.common import write_result

SYMBOLS, BARS, BT_SYMBOLS = 1_000, 750, 100
WORKER = "swingflow.bench.backtest_signals_worker"
BUDGET_VS_BACKTESTING = 100.0  # at least this many times faster
BUDGET_VS_VECTORBT = 2.0  # at most this many times slower than its warm time


def _child(engine: str, symbols: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", WORKER, engine, str(symbols), str(BARS)],
        check=True, capture_output=True, text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _try(engine: str, symbols: int) -> dict[str, Any]:
    try:
        return _child(engine, symbols)
    except subprocess.CalledProcessError as err:
        tail = (err.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"skipped": f"{engine} failed: {tail[0]}"}


def run(console: Console) -> None:
    console.print(f"{SYMBOLS} symbols x {BARS} bars; each engine in a fresh process")
    with tempfile.TemporaryDirectory() as empty_cache:
        compile_run = _child("ours", SYMBOLS, {"NUMBA_CACHE_DIR": empty_cache})
    _child("ours", 10)  # fills numba's on-disk cache if this checkout has not yet
    ours = _child("ours", SYMBOLS)  # numba's cache as a user has it after the first run
    full = _try("ours_full", SYMBOLS)
    floor = _child("numba_floor", 0)
    vbt = _try("vectorbt", SYMBOLS)
    bt = _try("backtesting_py", BT_SYMBOLS)
    payload: dict[str, Any] = {
        "symbols": SYMBOLS,
        "bars": BARS,
        "strategy": "RSI(14) < 30 entry at next open, 8% stop, 20-bar time exit, 5 bps "
        "commission and 5 bps slippage a side, 10,000 a trade",
        "ours": {
            "kernel_warm_s": ours["warm_s"],
            "kernel_warm_runs_s": ours["warm_runs_s"],
            "kernel_first_call_cached_s": ours["first_call_s"],
            "kernel_first_call_compile_s": compile_run["first_call_s"],
            "import_s": ours["import_s"],
            "trades": ours["trades"],
            "run_signal_backtest": full,
        },
        "numba_floor": floor,
        "vectorbt": vbt,
        "backtesting_py": bt,
    }
    if "run_s" in bt:
        scaled = bt["run_s"] * SYMBOLS / BT_SYMBOLS
        bt["scaled_to_symbols"] = SYMBOLS
        bt["run_s_scaled"] = scaled
        payload["speedup_vs_backtesting_py"] = scaled / ours["warm_s"]
        payload["speedup_vs_backtesting_py_cold"] = scaled / ours["first_call_s"]
    if "warm_s" in vbt:
        payload["ratio_to_vectorbt_warm"] = ours["warm_s"] / vbt["warm_s"]
        payload["ratio_to_vectorbt_cold"] = ours["first_call_s"] / vbt["first_call_s"]
    payload["budgets"] = {
        "speedup_vs_backtesting_py_at_least": BUDGET_VS_BACKTESTING,
        "ratio_to_vectorbt_warm_at_most": BUDGET_VS_VECTORBT,
        "met": {
            "backtesting_py": payload.get("speedup_vs_backtesting_py", 0) >= BUDGET_VS_BACKTESTING,
            "vectorbt": payload.get("ratio_to_vectorbt_warm", float("inf")) <= BUDGET_VS_VECTORBT,
        },
    }
    path = write_result("backtest-signals", payload)
    _show(console, payload)
    console.print(f"written to {path}")


def _show(console: Console, p: dict[str, Any]) -> None:
    table = Table(title="signal-driven backtest, 1,000 x 750")
    for col in ("engine", "warm s", "first call s", "trades"):
        table.add_column(col)
    o, v, b = p["ours"], p["vectorbt"], p["backtesting_py"]
    table.add_row("ours (kernel)", f"{o['kernel_warm_s']:.4f}",
                  f"{o['kernel_first_call_cached_s']:.2f} cached / "
                  f"{o['kernel_first_call_compile_s']:.2f} compile", str(o["trades"]))  # fmt: skip
    full = o["run_signal_backtest"]
    if "warm_s" in full:
        table.add_row("ours (run_signal_backtest)", f"{full['warm_s']:.3f}",
                      f"{full['first_call_s']:.2f}", str(full["trades"]))  # fmt: skip
    if "warm_s" in v:
        table.add_row("vectorbt from_signals", f"{v['warm_s']:.4f}", f"{v['first_call_s']:.2f}",
                      str(v["trades"]))  # fmt: skip
    if "run_s" in b:
        table.add_row("backtesting.py (x10)", f"{b['run_s_scaled']:.1f}", "", str(b["trades"]))
    console.print(table)
    console.print(
        f"vs backtesting.py: {p.get('speedup_vs_backtesting_py', float('nan')):.0f}x faster "
        f"(budget >= {BUDGET_VS_BACKTESTING:.0f}x); vs vectorbt warm: "
        f"{p.get('ratio_to_vectorbt_warm', float('nan')):.2f}x (budget <= {BUDGET_VS_VECTORBT}x)"
    )
