"""`make bench`: run every benchmark and write JSON under bench/results/.

`python -m swingflow.bench [NAME ...]` runs only the named ones.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console

from swingflow.bench import (
    backtest_bench,
    backtest_signals_bench,
    dashboard_bench,
    gateway_bench,
    ml_bench,
    pipeline_bench,
    scan_bench,
)

BENCHMARKS: dict[str, Callable[[Console], None]] = {
    "scan": scan_bench.run,
    "pipeline": pipeline_bench.run,
    "dashboard": dashboard_bench.run,
    "gateway": gateway_bench.run,
    "ml": ml_bench.run,
    "backtest": backtest_bench.run,
    "backtest-signals": backtest_signals_bench.run,
}


def main(argv: list[str]) -> int:
    console = Console(stderr=True)
    chosen = argv or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        console.print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in chosen:
        console.rule(f"bench: {name}")
        BENCHMARKS[name](console)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
