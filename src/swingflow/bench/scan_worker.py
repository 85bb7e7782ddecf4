"""One scan benchmark in a fresh interpreter, so its peak memory is its own.

python -m swingflow.bench.scan_worker --symbols 1000 --bars 750 --repeats 5 --mode swingflow
prints one JSON line: median seconds, every run, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource

from swingflow.bench.common import median_seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=750)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--mode", choices=["swingflow", "analyze_all", "pandas"], default="swingflow")
    args = ap.parse_args()

    from swingflow_common.config import StrategyConfig
    from swingflow_common.data import synthetic_universe

    data = synthetic_universe(args.symbols, args.bars, seed=42)
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extra: dict[str, object] = {}
    if args.mode == "swingflow":
        from swingflow_common.pipeline.scan import scan

        config = StrategyConfig()
        scan(data.select(list(data.symbols)[:5]), config)  # warm imports and numba's cache
        result = scan(data, config)
        extra = {
            "candidates": len(result.evaluations),
            "confirmed": sum(e.status == "confirmed" for e in result.evaluations),
        }

        def run() -> object:
            return scan(data, config)
    elif args.mode == "analyze_all":
        from swingflow_common.analysis.base import OHLCV
        from swingflow_common.pipeline.features import compute_features

        all_bars = [OHLCV.from_frame(f) for f in data.bars.values()]

        def run() -> object:
            return [compute_features(b) for b in all_bars]
    else:
        from swingflow.bench.pandas_baseline import indicators

        frames = list(data.bars.values())

        def run() -> object:
            return [indicators(f) for f in frames]

    median, runs = median_seconds(run, args.repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "mode": args.mode,
                "symbols": args.symbols,
                "bars": args.bars,
                "median_s": round(median, 4),
                "runs_s": [round(r, 4) for r in runs],
                "peak_rss_mb": round(peak / 1024, 1),
                "data_rss_mb": round(rss_data / 1024, 1),
                **extra,
            }
        )
    )


if __name__ == "__main__":
    main()
