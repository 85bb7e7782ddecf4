"""Full scan (every module, every stage, integration, ranking) of a synthetic universe,
against a naive per-symbol pandas loop computing the same indicators, in the same run.

The scan computes the setup modules for every symbol and the other modules for the
symbols where a setup fired (pipeline/features.py). `analyze_all_1000` is reported beside
it: every module on every symbol, with no stage, so the shortcut's share is visible.

Budget (issue #2): 1,000 symbols x 750 bars in at most 1 s on this 2-core machine.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from swingflow.bench.common import run_child, write_result

WORKER = "swingflow.bench.scan_worker"
BUDGET_S = 1.0


def run(console: Console) -> None:
    rows = {
        "swingflow_1000": run_child(WORKER, "--symbols", "1000", "--repeats", "5"),
        "analyze_all_1000": run_child(
            WORKER, "--symbols", "1000", "--repeats", "3", "--mode", "analyze_all"
        ),
        "pandas_1000": run_child(WORKER, "--symbols", "1000", "--repeats", "1", "--mode", "pandas"),
        "swingflow_5000": run_child(WORKER, "--symbols", "5000", "--repeats", "3"),
    }
    fast, naive = rows["swingflow_1000"]["median_s"], rows["pandas_1000"]["median_s"]
    summary = {
        "budget_s": BUDGET_S,
        "within_budget": fast <= BUDGET_S,
        "speedup_vs_pandas": round(naive / fast, 1),
        "runs": rows,
    }
    path = write_result("scan", summary)
    table = Table("run", "symbols x bars", "median s", "peak RSS MB")
    for name, r in rows.items():
        table.add_row(
            name, f"{r['symbols']} x {r['bars']}", f"{r['median_s']:.3f}", f"{r['peak_rss_mb']:.0f}"
        )
    console.print(table)
    verdict = "within" if summary["within_budget"] else "OVER"
    console.print(
        f"1,000-symbol scan {fast:.3f} s ({verdict} the {BUDGET_S:.0f} s budget), "
        f"{summary['speedup_vs_pandas']}x the pandas loop -> {path}"
    )
