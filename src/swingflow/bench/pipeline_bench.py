"""The pipeline as services: one day of 1,000 symbols through scanner -> signals -> portfolio,
and the latency from a bar to its confirmed signal at a steady 200 bars per second.

Each backend (SQLite, and PostgreSQL when `BENCH_DATABASE_URL` or the test suite's server
answers) gets its own nats-server, database and service processes (`swingflow up`'s plan,
no feed: this benchmark is the market). On a synthetic universe of 1,000 symbols:

1. history: the first 255 sessions are stored in the database before the services start
   (the scanner loads them, as after a restart);
2. warm-up: the next 2 sessions are published and digested by every service (first
   analyses, first ML requests, first writes), so nothing measured pays a first-call cost;
3. days: each of the next 3 sessions, 1,000 bars at once, timed on its own
   (`pipeline_measure.time_day`: from the first bar stored to the last ack of every
   consumer of the pipeline); the figure is their median;
4. latency: the next 6 sessions at 200 bars/s (`pipeline_measure.latency`), also split
   where each confirmed signal's candidate went out (bar -> candidate, the scanner's
   part; candidate -> confirmed, the signals service's), the ML stage neutral;
5. latency with a model, on a second platform of the same backend: history and warm-up
   as above, then a model trained on the history (`pipeline_model`) is recorded and
   announced as `swingflow train` does, and the same 6 sessions as in 4 are measured
   with the ML stage scoring every candidate (each confirmed signal's `model_version` is
   counted, to show the model answered).

`BENCH_PIPELINE_BACKENDS=sqlite` (or `postgresql`) measures one backend only.

Same-run baseline: the pure pipeline in one process (`pipeline.scan.scan`, every stage,
neutral ML) on the same 3 days, median of 3 scans each; the ratio is the cost of the bus,
the processes and the database. Budgets (issue "The pipeline as services over NATS"): the
day within 2 s, p99 latency at most 50 ms. The ML stage is neutral (no model) in both and
in the judged latency; the latency with a model is reported beside it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from swingflow.bench.common import write_result
from swingflow.bench.pipeline_measure import latency, time_day
from swingflow.bench.pipeline_model import history_model, promote
from swingflow.bench.pipeline_platform import DEFAULT_POSTGRES, Platform, admin_execute
from swingflow_common.config import StrategyConfig, load_config
from swingflow_common.data import Dataset, load
from swingflow_common.messages import Bar
from swingflow_common.ml.train import TrainingResult

SYMBOLS = 1_000
HISTORY_DAYS, WARMUP_DAYS, TIMED_DAYS, LATENCY_DAYS = 255, 2, 3, 6
N_DAYS = HISTORY_DAYS + WARMUP_DAYS + TIMED_DAYS + LATENCY_DAYS
SEED = 3  # a busy market: 137-167 of the 1,000 symbols have a candidate on each timed day
DATASET = f"synthetic:{SYMBOLS}x{N_DAYS}:{SEED}"
RATE_PER_S = 200.0
BUDGET_DAY_S = 2.0
BUDGET_P99_MS = 50.0


def day_bars(data: Dataset) -> list[list[Bar]]:
    """The dataset's bars as one list per session, sessions in order."""
    rows: dict[pd.Timestamp, list[Bar]] = {}
    for symbol in sorted(data.bars):
        frame = data.bars[symbol]
        values = frame[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
        for ts, (o, h, low, c, v) in zip(frame.index, values, strict=True):
            bar = Bar(symbol=symbol, ts=ts.to_pydatetime(), open=o, high=h, low=low, close=c,
                      volume=v)  # fmt: skip
            rows.setdefault(ts, []).append(bar)
    return [rows[ts] for ts in sorted(rows)]


def strategy(work: Path) -> tuple[Path, StrategyConfig]:
    """The repository's strategy with an empty model folder: the ML stage stays neutral
    until the bench records a model there (`pipeline_model.promote`)."""
    (work / "models").mkdir()
    config = load_config().model_copy(update={"ml_model_path": str(work / "models")})
    path = work / "swing_config.json"
    path.write_text(config.model_dump_json(indent=2))
    return path, config


def pure_baseline(
    data: Dataset, config: StrategyConfig, days: list[pd.Timestamp]
) -> dict[str, Any]:
    """The in-process pipeline on the same days: per day the median of 3 full scans."""
    from swingflow_common.pipeline.scan import scan

    per_day: list[dict[str, Any]] = []
    for day in days:
        runs, result = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            result = scan(data, config, asof=day)
            runs.append(time.perf_counter() - t0)
        assert result is not None
        per_day.append(
            {
                "day": day.date().isoformat(),
                "seconds": round(statistics.median(runs), 4),
                "candidates": result.funnel.candidates,
                "confirmed": result.funnel.confirmed,
            }
        )
    median = statistics.median(float(d["seconds"]) for d in per_day)
    return {"median_s": median, "days": per_day}


async def postgres_missing() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        await admin_execute(os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES), "SELECT 1")
    except Exception as exc:
        return repr(exc)
    return None


def phases(days: list[list[Bar]]) -> tuple[list[list[Bar]], ...]:
    """The sessions split into history, warm-up, timed days and the latency phase."""
    cuts = np.cumsum([HISTORY_DAYS, WARMUP_DAYS, TIMED_DAYS, LATENCY_DAYS])
    return tuple(days[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True))


@asynccontextmanager
async def warmed(
    backend: str, days: list[list[Bar]], env: dict[str, str], label: str = ""
) -> AsyncIterator[Platform]:
    """A platform on `backend` with the history stored and the warm-up sessions digested."""
    history, warmup = phases(days)[:2]
    stored = [b for day in history for b in day]
    with tempfile.TemporaryDirectory(prefix=f"bench-pipeline-{backend}{label}-") as tmp:
        async with Platform.start(Path(tmp), backend, stored, env) as platform:
            for day in warmup:
                await time_day(platform, day)
            yield platform


def paced_bars(days: list[list[Bar]]) -> list[Bar]:
    """The latency phase's bars, in order."""
    return [b for day in phases(days)[3] for b in day]


async def measure(
    backend: str,
    days: list[list[Bar]],
    config_path: Path,
    trained: TrainingResult,
    tuning: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every phase on one backend (see the module docstring); `tuning`: extra settings."""
    history, warmup, timed, _ = phases(days)
    env = {"SWINGFLOW_CONFIG": str(config_path), **(tuning or {})}
    t0 = time.perf_counter()
    async with warmed(backend, days, env) as platform:
        ready_s = time.perf_counter() - t0  # started, and the warm-up sessions digested
        day_results = [await time_day(platform, day) for day in timed]
        latency_result = await latency(platform, paced_bars(days), RATE_PER_S)
    children = platform.supervisor.children
    codes = {c.spec.name: c.process.poll() for c in children if c.process is not None}
    with_model = await latency_with_model(backend, days, config_path, trained, env)
    return {
        "database": backend,
        "settings": tuning or {},
        "startup_and_warmup_s": round(ready_s, 1),
        "history_bars_in_db": sum(len(d) for d in history),
        "warmup_bars_published": sum(len(d) for d in warmup),
        "day_median_s": statistics.median(d["seconds"] for d in day_results),
        "days": day_results,
        "latency": latency_result,
        "latency_with_model": with_model,
        "exit_codes": codes,
    }


async def latency_with_model(
    backend: str, days: list[list[Bar]], config_path: Path, trained: TrainingResult,
    env: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    """Phase 5: the latency phase's sessions again, on a new platform, with a model."""
    async with warmed(backend, days, env, "-model") as platform:
        config = load_config(config_path)
        version = await promote(trained, config, platform.database_url, platform.nc)
        await platform.wait_metric("ml", "swingflow_ml_model_loaded", 1.0, within=60)
        result = await latency(platform, paced_bars(days), RATE_PER_S)
    return {**result, "model_version": version}


def run(console: Console) -> None:
    load_before = os.getloadavg()
    data = load(DATASET)
    days = day_bars(data)
    timed_days = [day[0].ts for day in phases(days)[2]]
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        config_path, config = strategy(Path(tmp))
        console.print("pure pipeline baseline ...")
        baseline = pure_baseline(data, config, [pd.Timestamp(d) for d in timed_days])
        console.print("a model on the history, for the latency with the ML stage ...")
        trained = history_model(data, config, phases(days)[0][-1][0].ts)
        backends: dict[str, dict[str, Any]] = {}
        why_not_pg = asyncio.run(postgres_missing())
        chosen = os.environ.get("BENCH_PIPELINE_BACKENDS", "sqlite,postgresql").split(",")
        for backend in ("sqlite", "postgresql"):
            if backend not in chosen:
                backends[backend] = {"skipped": "not in BENCH_PIPELINE_BACKENDS"}
                continue
            if backend == "postgresql" and why_not_pg:
                backends[backend] = {"skipped": f"PostgreSQL unavailable: {why_not_pg}"}
                continue
            console.print(f"services on {backend} ...")
            backends[backend] = asyncio.run(measure(backend, days, config_path, trained))
    summary = summarize(baseline, backends)
    summary["load_average"] = {"before": load_before, "after": os.getloadavg()}
    path = write_result("pipeline", summary)
    console.print(table(summary))
    for name, r in summary["backends"].items():
        if "days" in r:
            cpu = median_cpu(r["days"])
            spent = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
            console.print(f"CPU seconds per day on {name} (median): {spent}")
    console.print(f"-> {path}")


def median_cpu(days: list[dict[str, Any]]) -> dict[str, float]:
    """Each service's median CPU seconds over the timed days."""
    names = {n for d in days for n in d["service_cpu_s"]}
    return {n: statistics.median(d["service_cpu_s"].get(n, 0.0) for d in days) for n in names}


def summarize(baseline: dict[str, Any], backends: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pure = {(d["day"], d["candidates"], d["confirmed"]) for d in baseline["days"]}
    for result in backends.values():
        if "skipped" in result:
            continue
        result["day_within_budget"] = result["day_median_s"] <= BUDGET_DAY_S
        result["p99_within_budget"] = result["latency"]["p99_ms"] <= BUDGET_P99_MS
        result["day_vs_pure"] = round(result["day_median_s"] / baseline["median_s"], 2)
        mine = {(d["day"], d["candidates"], d["confirmed"]) for d in result["days"]}
        result["days_match_pure"] = mine == pure
        result["days_checks_pass"] = all(all(d["checks"].values()) for d in result["days"])
    return {
        "symbols": SYMBOLS,
        "dataset": DATASET,
        "budgets": {"day_s": BUDGET_DAY_S, "p99_ms": BUDGET_P99_MS},
        "definition_of_done": (
            "first bar of the day stored in MARKET -> latest last ack of every durable "
            "consumer of MARKET, SIGNALS and PORTFOLIO (scanner bars, signals candidates, "
            "portfolio signals and bars), on the server's clock, once none has anything "
            "pending or unacked; checked against the database's verdicts and the "
            "portfolio's decisions"
        ),
        "pure_pipeline_same_days": baseline,
        "backends": backends,
    }


def table(summary: dict[str, Any]) -> Table:
    base = summary["pure_pipeline_same_days"]
    out = Table("run", "1,000-symbol day s (median)", "each day s", "x pure", "p50 ms",
                "p99 ms", "samples", title="pipeline over NATS")  # fmt: skip
    each = " ".join(f"{d['seconds']:.2f}" for d in base["days"])
    out.add_row("pure pipeline, 1 process", f"{base['median_s']:.3f}", each, "1.0", "-", "-", "-")
    for name, r in summary["backends"].items():
        if "skipped" in r:
            out.add_row(f"services + {name}", "skipped", "", "", "", "", "")
            continue
        lat = r["latency"]
        ok_day = "green" if r["day_within_budget"] else "red"
        ok_p99 = "green" if r["p99_within_budget"] else "red"
        out.add_row(
            f"services + {name}",
            f"[{ok_day}]{r['day_median_s']:.3f}[/]",
            " ".join(f"{d['seconds']:.2f}" for d in r["days"]),
            f"{r['day_vs_pure']}",
            f"{lat['p50_ms']:.1f}",
            f"[{ok_p99}]{lat['p99_ms']:.1f}[/]",
            f"{lat['samples']}",
        )
        model = r["latency_with_model"]
        out.add_row(f"  ... with a model ({model['model_version']})", "", "", "",
                    f"{model['p50_ms']:.1f}", f"{model['p99_ms']:.1f}",
                    f"{model['samples']}")  # fmt: skip
    counts = ", ".join(f"{d['candidates']}/{d['confirmed']}" for d in base["days"])
    out.caption = (
        f"budgets: day <= {BUDGET_DAY_S:.0f} s, p99 <= {BUDGET_P99_MS:.0f} ms at "
        f"{RATE_PER_S:.0f} bars/s; candidates/confirmed per day {counts}; ML neutral, except "
        "the rows with a model"
    )
    return out
