"""`swingflow backtest`: the four-stage pipeline over history, or given entry/exit signals.

Pipeline mode runs the strategy config over a dataset (optionally walk-forward); signal
mode (`--signals FILE.csv`) trades the given entries and exits with stops, targets, costs
and sizing from options, defaulting to the config's risk settings. Either way the run is
written as trades CSV, JSON and HTML report under `--out` (default
var/backtests/<run id>/) and stored in the database unless `--no-store`. User mistakes
(bad config, unknown symbol, malformed signal file, bad option) exit 2 with one message.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from swingflow.commands.scan import DEFAULT_UNIVERSE, _config, fail

if TYPE_CHECKING:
    from swingflow_common.backtest.result import BacktestResult
    from swingflow_common.backtest.runner import BacktestRequest
    from swingflow_common.backtest.signals_mode import SignalOptions
    from swingflow_common.config import StrategyConfig
    from swingflow_common.data import Dataset
    from swingflow_common.progress import Progress

DEFAULT_OUT = Path("var/backtests")
SIGNAL_OPTIONS_HELP = "Signal mode (--signals)"


class Entry(StrEnum):
    next_open = "next_open"
    close = "close"


class Sizing(StrEnum):
    fixed_cash = "fixed_cash"
    equity_fraction = "equity_fraction"
    fixed_quantity = "fixed_quantity"


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date (use YYYY-MM-DD)")


def _dataset(data: Path | None, universe: str | None) -> Dataset:
    """`--data DIR`, or `--universe` (a packaged name or synthetic:<symbols>x<bars>[:seed])."""
    from swingflow_common.data import DataError, load, load_folder

    if data is not None and universe is not None:
        fail("give either --data or --universe, not both")
    try:
        return load_folder(data) if data is not None else load(universe or DEFAULT_UNIVERSE)
    except DataError as err:
        fail(str(err))


def _request(**values: object) -> BacktestRequest:
    from pydantic import ValidationError

    from swingflow_common.backtest.runner import BacktestRequest

    try:
        return BacktestRequest.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as err:
        fail("; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors()))


def _signal_options(cfg: StrategyConfig, overrides: dict[str, object]) -> SignalOptions:
    from pydantic import ValidationError

    from swingflow_common.backtest.signals_mode import SignalOptions

    given = {k: v for k, v in overrides.items() if v is not None}
    for kind in ("stop", "target"):  # a % level given replaces the config's ATR multiple
        if f"{kind}_pct" in given:
            given.setdefault(f"{kind}_atr", None)
    try:
        return SignalOptions.from_risk(cfg.risk, **given)
    except ValidationError as err:
        fail("; ".join(f"--{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}"
                       for e in err.errors()))  # fmt: skip


def _run_signals(
    dataset: Dataset,
    signals: Path,
    options: SignalOptions,
    request: BacktestRequest,
    progress: Progress,
    run_id: str,
) -> BacktestResult:
    from swingflow_common.backtest.signal_file import SignalTable, read_signal_file
    from swingflow_common.backtest.signals_mode import run_signal_backtest

    try:
        table = read_signal_file(signals, request.symbols)
        if request.start is not None or request.end is not None:
            dataset = dataset.slice(request.start, request.end)
            window = slice(
                *(str(d) if d is not None else None for d in (request.start, request.end))
            )
            table = SignalTable.from_frames(table.entries.loc[window], table.exits.loc[window])
        return run_signal_backtest(dataset, table, options, progress=progress, run_id=run_id)
    except (ValueError, OSError) as err:
        fail(str(err))


def _store(result: BacktestResult) -> str:
    from sqlalchemy.engine import make_url

    from swingflow_common.backtest.runner import store
    from swingflow_common.settings import CommonSettings, SettingsError, load_settings

    try:
        url = load_settings(CommonSettings).database_url
    except SettingsError as err:
        fail(str(err))
    try:
        asyncio.run(store(url, result))
    except Exception as err:  # the files are written: say why the database refused
        Console(stderr=True).print(f"error: could not store the run: {err}", markup=False)
        raise typer.Exit(1) from None
    return make_url(url).render_as_string(hide_password=True)


def backtest(
    universe: Annotated[
        str | None,
        typer.Option(
            help=f"A packaged dataset (default {DEFAULT_UNIVERSE}) or synthetic:<symbols>x<bars>."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="A folder of CSV/Parquet files, one per symbol.", file_okay=False),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Strategy config (default: ./swing_config.json if present)."),
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Only these symbols, comma separated: AAPL,MSFT.")
    ] = None,
    entry: Annotated[
        Entry, typer.Option(help="Fill a signal at the next open or at its bar's close.")
    ] = Entry.next_open,
    walk_forward: Annotated[
        bool, typer.Option("--walk-forward", help="Rolling in-sample/out-of-sample windows.")
    ] = False,
    in_sample: Annotated[
        int | None, typer.Option(min=5, help="Walk-forward: in-sample bars per window.")
    ] = None,
    out_of_sample: Annotated[
        int | None, typer.Option(min=5, help="Walk-forward: out-of-sample bars per window.")
    ] = None,
    step: Annotated[
        int | None, typer.Option(min=5, help="Walk-forward: bars between windows.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the files (default var/backtests/<run id>).", file_okay=False
        ),
    ] = None,
    trades_csv: Annotated[
        Path | None, typer.Option(help="Write the trades CSV here.", dir_okay=False)
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON result here.", dir_okay=False)
    ] = None,
    html: Annotated[
        Path | None, typer.Option(help="Write the HTML report here.", dir_okay=False)
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not store the run in the database.")
    ] = False,
    signals: Annotated[
        Path | None,
        typer.Option(
            help="Signal mode: a CSV of symbol,date,action (entry/exit).",
            dir_okay=False,
            rich_help_panel=SIGNAL_OPTIONS_HELP,
        ),
    ] = None,
    stop_pct: Annotated[
        float | None,
        typer.Option(
            help="Stop this fraction below entry (0.05).", rich_help_panel=SIGNAL_OPTIONS_HELP
        ),
    ] = None,
    stop_atr: Annotated[
        float | None,
        typer.Option(
            help="Stop N ATRs below entry (default: the config's).",
            rich_help_panel=SIGNAL_OPTIONS_HELP,
        ),
    ] = None,
    target_pct: Annotated[
        float | None,
        typer.Option(help="Target this fraction above entry.", rich_help_panel=SIGNAL_OPTIONS_HELP),
    ] = None,
    target_atr: Annotated[
        float | None,
        typer.Option(
            help="Target N ATRs above entry (default: the config's).",
            rich_help_panel=SIGNAL_OPTIONS_HELP,
        ),
    ] = None,
    commission_bps: Annotated[
        float | None,
        typer.Option(
            help="Commission per side, basis points.", rich_help_panel=SIGNAL_OPTIONS_HELP
        ),
    ] = None,
    slippage_bps: Annotated[
        float | None,
        typer.Option(
            help="Slippage per market fill, basis points.", rich_help_panel=SIGNAL_OPTIONS_HELP
        ),
    ] = None,
    slippage_atr: Annotated[
        float | None,
        typer.Option(help="Extra slippage, fraction of ATR.", rich_help_panel=SIGNAL_OPTIONS_HELP),
    ] = None,
    max_bars: Annotated[
        int | None,
        typer.Option(help="Time exit after N bars held.", rich_help_panel=SIGNAL_OPTIONS_HELP),
    ] = None,
    sizing: Annotated[
        Sizing | None,
        typer.Option(
            help="fixed_cash, equity_fraction or fixed_quantity.",
            rich_help_panel=SIGNAL_OPTIONS_HELP,
        ),
    ] = None,
    size: Annotated[
        float | None,
        typer.Option(
            help="Money, fraction or shares a trade, as --sizing says.",
            rich_help_panel=SIGNAL_OPTIONS_HELP,
        ),
    ] = None,
) -> None:
    """Backtest the pipeline (or given signals) over history: CSV, JSON, HTML, database."""
    from swingflow import backtest_output
    from swingflow_common.backtest.export import export_all
    from swingflow_common.backtest.metrics import METRIC_NAMES
    from swingflow_common.backtest.runner import new_run_id, run

    cfg = _config(config)
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    if symbols is not None and not wanted:
        fail("--symbols is empty")
    if walk_forward != (in_sample is not None and out_of_sample is not None):
        fail("--walk-forward needs --in-sample and --out-of-sample (and they need it)")
    if signals is not None and walk_forward:
        fail("--walk-forward applies to the pipeline mode, not to --signals")
    request = _request(
        start=_date(start, "--from"), end=_date(end, "--to"),
        symbols=tuple(wanted) if wanted else None, entry=entry.value,
        in_sample_bars=in_sample, out_of_sample_bars=out_of_sample, step_bars=step,
    )  # fmt: skip
    dataset = _dataset(data, universe)
    run_id = new_run_id()
    console = Console(stderr=True) if sys.stderr.isatty() else None
    label = "signals" if signals else ("walk-forward" if walk_forward else "backtest")
    with backtest_output.progress_bar(console, label) as progress:
        if signals is not None:
            options = _signal_options(cfg, {
                "stop_pct": stop_pct, "stop_atr": stop_atr, "target_pct": target_pct,
                "target_atr": target_atr, "commission_bps": commission_bps,
                "slippage_bps": slippage_bps, "slippage_atr": slippage_atr,
                "max_bars_held": max_bars, "sizing": sizing.value if sizing else None,
                "size": size, "entry": entry.value,
            })  # fmt: skip
            result = _run_signals(dataset, signals, options, request, progress, run_id)
        else:
            try:
                result = run(dataset, cfg, request, progress=progress, run_id=run_id)
            except (ValueError, KeyError) as err:
                fail(str(err).strip("'\""))
        files = export_all(
            result, out or DEFAULT_OUT / result.id,
            trades_csv_path=trades_csv, json_path=json_path, html_path=html,
        )  # fmt: skip
    stored = None if no_store else _store(result)
    backtest_output.print_summary(Console(), result, METRIC_NAMES, files, stored)
