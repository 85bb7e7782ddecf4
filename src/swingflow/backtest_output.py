"""What `swingflow backtest` shows on the terminal: a rich progress bar fed by the
engine's `progress(stage, done, total)` callback, and the summary table at the end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from swingflow_common.backtest.export import ExportedFiles
from swingflow_common.backtest.report import fmt
from swingflow_common.backtest.result import BacktestResult
from swingflow_common.progress import Progress as ProgressCallback
from swingflow_common.progress import no_progress

HEADLINE = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
    "max_drawdown_duration", "exposure", "trades", "win_rate", "profit_factor", "expectancy",
    "avg_r_multiple", "sqn", "probabilistic_sharpe", "buy_and_hold_return", "total_fees",
)  # fmt: skip
"""Figures the summary shows (those the run has); all of them are in the HTML report."""


@contextmanager
def progress_bar(console: Console | None, label: str) -> Iterator[ProgressCallback]:
    """A progress callback drawing one bar per stage on `console`; silent without one."""
    if console is None:
        yield no_progress
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{label}: {stage}", completed=done, total=total or None)

        yield report


def summary_table(result: BacktestResult, names: Mapping[str, str]) -> Table:
    """The run's headline metrics (described by `names`, e.g. METRIC_NAMES)."""
    title = (
        f"{result.mode} backtest {result.id}: {result.dataset}, {len(result.symbols)} symbols, "
        f"{result.start} to {result.end}"
    )
    if result.walk_forward:
        title += f" (walk-forward, {len(result.walk_forward)} windows: out-of-sample figures)"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    shown = [k for k in HEADLINE if k in result.metrics] or list(result.metrics)
    for key in shown:
        table.add_row(key, fmt(result.metrics[key], key), names.get(key, ""))
    return table


def print_summary(
    console: Console,
    result: BacktestResult,
    names: Mapping[str, str],
    files: ExportedFiles,
    stored: str | None,
) -> None:
    console.print(summary_table(result, names))
    if result.mode == "pipeline":
        console.print(f"candidates {result.candidates}, confirmed {result.confirmed}")
    written: list[Path] = [p for p in (files.trades_csv, files.json, files.html) if p]
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    if stored:
        console.print(f"stored run {result.id} in {stored}", highlight=False)
