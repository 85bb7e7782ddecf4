"""Backtest benchmarks (issue #6), one function per part, written to bench/results/backtest.json.

Pipeline part: `run_pipeline_backtest` on 1,000 synthetic symbols x 2,520 bars (10 years),
default config, budget 10 s. The time is split by the engine's progress stages:
candidates (stages 1-4 over the whole history), evaluate (the offers' bookkeeping) and
simulate (sizing, fills, marking), plus the result's metrics. Data generation and the
numba warm-up are outside the timing. Runs once, in a child process so its peak memory
is its own. Everything runs in that one process, so its CPU time (`cpu_s`) is the figure
to compare across runs on a shared machine; the load average beside it says how much of
the machine the run had.

    python -m swingflow.bench backtest                          # every part
    python -m swingflow.bench.backtest_bench pipeline 100 2520  # one part, scaled, JSON out
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from swingflow.bench.common import run_child, write_result

WORKER = "swingflow.bench.backtest_bench"
PIPELINE_SYMBOLS, PIPELINE_BARS = 1000, 2520
PIPELINE_BUDGET_S = 10.0


def measure_pipeline(symbols: int, bars: int) -> dict[str, Any]:
    """Time one pipeline backtest of `symbols` x `bars` synthetic bars, split by stage."""
    from swingflow_common.backtest.engine import run_pipeline_backtest
    from swingflow_common.config import StrategyConfig
    from swingflow_common.data import synthetic_universe

    config = StrategyConfig()
    run_pipeline_backtest(synthetic_universe(3, 400, seed=1), config)  # JIT warm-up
    data = synthetic_universe(symbols, bars, seed=0)
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    load_before = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_pipeline_backtest(data, config, progress=progress)
    t1, c1 = time.perf_counter(), time.process_time()
    order = ["candidates", "evaluate", "simulate"]
    starts = [marks.get(s, t1) for s in order] + [t1]
    split = {s: round(starts[i + 1] - starts[i], 3) for i, s in enumerate(order)}
    split["simulate"] = round(split["simulate"], 3)  # includes metrics and the result
    return {
        "symbols": symbols,
        "bars": bars,
        "seconds": round(t1 - t0, 3),
        "cpu_s": round(c1 - c0, 3),  # this process's CPU: steadier than wall on a shared box
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "split_s": split,
        "candidates": result.candidates,
        "confirmed": result.confirmed,
        "trades": len(result.trades),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def pipeline_part(console: Console) -> dict[str, Any]:
    """The pipeline backtest at full scale, against its budget."""
    row = run_child(WORKER, "pipeline", str(PIPELINE_SYMBOLS), str(PIPELINE_BARS))
    row["budget_s"] = PIPELINE_BUDGET_S
    row["within_budget"] = row["seconds"] <= PIPELINE_BUDGET_S
    title = f"pipeline {row['symbols']} x {row['bars']} (seconds)"
    table = Table("wall", "CPU", "candidates", "simulate", "trades", "peak MB", "load",
                  title=title)  # fmt: skip
    split = row["split_s"]
    table.add_row(
        f"{row['seconds']:.2f}", f"{row['cpu_s']:.2f}", f"{split['candidates']:.2f}",
        f"{split['simulate']:.2f}", str(row["trades"]),
        f"{row['peak_rss_mb']:.0f}", "/".join(f"{x:.1f}" for x in row["load_average_1m"]),
    )  # fmt: skip
    console.print(table)
    verdict = "within" if row["within_budget"] else "OVER"
    console.print(
        f"pipeline backtest {row['seconds']:.1f} s, {row['cpu_s']:.1f} s of CPU "
        f"({verdict} the 10 s budget)"
    )
    return row


PARTS: dict[str, Callable[[Console], dict[str, Any]]] = {"pipeline": pipeline_part}


def run(console: Console) -> None:
    """Every part; one JSON file."""
    results = {name: part(console) for name, part in PARTS.items()}
    path = write_result("backtest", {"parts": results})
    console.print(f"-> {path}")


WORKERS: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "pipeline": measure_pipeline,
}

if __name__ == "__main__":
    part, n_symbols, n_bars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(WORKERS[part](n_symbols, n_bars)))
