"""`swingflow scan`: run the four-stage pipeline over a universe on one date.

Loads the strategy config and the bars, scans, and prints a table, JSON or CSV. Every
user mistake (bad config, unknown symbol, empty folder, a date without bars) is one clear
message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from swingflow_common.config import StrategyConfig
    from swingflow_common.data import Dataset
    from swingflow_common.pipeline.scan import ScanResult

DEFAULT_UNIVERSE = "sp500-2010"
USAGE_ERROR = 2
WIDE = 160  # columns of a table written to a file or a pipe


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str) -> NoReturn:
    """Print `message` on stderr and exit with the usage-error code."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    raise typer.Exit(USAGE_ERROR)


def _config(path: Path | None) -> StrategyConfig:
    from swingflow_common.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as err:
        fail(str(err))


def _dataset(data: Path | None, universe: str | None) -> Dataset:
    from swingflow_common.data import DataError, load_builtin, load_folder

    if data is not None and universe is not None:
        fail("give either --data or --universe, not both")
    try:
        if data is not None:
            return load_folder(data)
        return load_builtin(universe or DEFAULT_UNIVERSE)
    except DataError as err:
        fail(str(err))


def progress_wanted(
    fmt: OutputFormat, output: Path | None, stderr_tty: bool, stdout_tty: bool
) -> bool:
    """A progress bar only on a terminal, and never beside machine output on the screen."""
    if not stderr_tty:
        return False
    return fmt is OutputFormat.table or output is not None or stdout_tty


def _run(
    dataset: Dataset,
    config: StrategyConfig,
    asof: str | None,
    symbols: list[str] | None,
    progress: bool,
) -> ScanResult:
    import pandas as pd
    from rich.progress import Progress

    from swingflow_common.pipeline.scan import ScanError, scan

    when = None
    if asof is not None:
        try:
            when = pd.Timestamp(asof)
        except ValueError:
            fail(f"--asof {asof!r} is not a date (use YYYY-MM-DD)")
    try:
        if not progress:
            return scan(dataset, config, asof=when, symbols=symbols)
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("scanning", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return scan(dataset, config, asof=when, symbols=symbols, progress=step)
    except ScanError as err:
        fail(str(err))


def _no_bars_message(dataset: Dataset, result: ScanResult) -> str:
    first, last = dataset.dates[0].date(), dataset.dates[-1].date()
    return (
        f"no symbol has a bar on {result.asof.date()} in {dataset.name} "
        f"(it covers {first} to {last} on trading days)"
    )


def scan(
    asof: Annotated[
        str | None, typer.Option(help="Scan date YYYY-MM-DD (default: the data's last date).")
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Only these symbols, comma separated: AAPL,MSFT.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="A folder of CSV/Parquet files, one per symbol.", file_okay=False),
    ] = None,
    universe: Annotated[
        str | None, typer.Option(help=f"A packaged dataset (default {DEFAULT_UNIVERSE}).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Strategy config (default: ./swing_config.json if present)."),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of stdout.", dir_okay=False)
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Table: also show every rejected candidate.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most N rows (ranked).")] = None,
) -> None:
    """Scan a universe: setups, confirmation, ML, entry timing; ranked, with the funnel."""
    from swingflow import scan_output

    cfg = _config(config)
    dataset = _dataset(data, universe)
    wanted = [s for s in symbols.split(",") if s.strip()] if symbols is not None else None
    if wanted is not None and not wanted:
        fail("--symbols is empty")
    show = progress_wanted(fmt, output, sys.stderr.isatty(), sys.stdout.isatty())
    result = _run(dataset, cfg, asof, wanted, show)
    if result.funnel.symbols_scanned == 0:
        fail(_no_bars_message(dataset, result))
    name = dataset.name
    if fmt is OutputFormat.json:
        text = scan_output.to_json(result, name, cfg, limit)
    elif fmt is OutputFormat.csv:
        text = scan_output.to_csv(result, limit)
    else:
        _print_table(result, name, output, show_all, limit)
        return
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def _print_table(
    result: ScanResult, name: str, output: Path | None, show_all: bool, limit: int | None
) -> None:
    from swingflow import scan_output

    if output is None:
        # a pipe or a capture gets the whole table, not a squeeze to 80 columns
        console = Console() if sys.stdout.isatty() else Console(width=WIDE)
        scan_output.render_table(result, console, name, show_all, limit)
        return
    with output.open("w") as fh:
        console = Console(file=fh, width=WIDE, color_system=None)
        scan_output.render_table(result, console, name, show_all, limit)
