"""`swingflow validate`: the pipeline without the ML stage and with it, on the same
out-of-sample period (docs/ml.md, "Validation").

Without `--model`, a walk-forward: per window a model is fitted on the in-sample part and
both arms trade the out-of-sample part. With `--model VERSION|PATH`, that model is tested
from `--from` (default: the day after its training window), and refused when the period
starts inside its training window. Writes validation.json and validation.html under
`--out` (default var/validations/<id>) and prints the verdict and the headline figures.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from swingflow.commands.backtest import _dataset, _date
from swingflow.commands.scan import _config, fail

if TYPE_CHECKING:
    from swingflow_common.config import StrategyConfig
    from swingflow_common.ml.scorer import ModelScorer
    from swingflow_common.ml.validation import ModelInfo, ValidationReport

DEFAULT_UNIVERSE = "megacaps-2013-2023"
DEFAULT_OUT = Path("var/validations")
SHOWN = ("total_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate",
         "profit_factor", "expectancy", "avg_trade_return")  # fmt: skip


async def _registered(version: str) -> tuple[str, str, ModelInfo]:
    from swingflow_common.db import engine_from_url, migrate_async, session_factory
    from swingflow_common.ml import registry
    from swingflow_common.ml.validation import info_from_row
    from swingflow_common.settings import CommonSettings, load_settings

    url = load_settings(CommonSettings).database_url
    await migrate_async(url)
    engine = engine_from_url(url)
    try:
        async with session_factory(engine)() as session:
            row = await registry.get_model(session, version)
    finally:
        await engine.dispose()
    if row is None:
        fail(f"--model {version!r} is neither a model file nor a registered version")
    if row.train_start is None or row.train_end is None:
        fail(f"model {version} has no recorded training window: it cannot be shown out of sample")
    return row.path, row.sha256, info_from_row(row.version, row.path, row.sha256,
                                               row.train_start, row.train_end)  # fmt: skip


def _model(spec: str, cfg: StrategyConfig) -> tuple[ModelScorer, ModelInfo]:
    """A model file (its training window from the report beside it) or a registry version."""
    from swingflow_common.ml.registry import ModelIntegrityError, load_verified
    from swingflow_common.ml.scorer import ModelScorer
    from swingflow_common.ml.validation import model_from_file

    try:
        if Path(spec).is_file():
            model, info = model_from_file(Path(spec))
        else:
            path, sha, info = asyncio.run(_registered(spec))
            model = load_verified(path, sha)
    except (ModelIntegrityError, ValueError) as err:
        fail(str(err))
    return ModelScorer(model, cfg), info


def print_summary(console: Console, report: ValidationReport, files: list[Path]) -> None:
    from swingflow_common.backtest.report import fmt

    table = Table(title=f"validation {report.id}: {report.dataset}, {report.start} to "
                  f"{report.end} (out of sample)", title_justify="left")  # fmt: skip
    for head in ("metric", "ML neutral", "with the model"):
        table.add_column(head, justify="right" if head != "metric" else "left")
    a, b = report.neutral.metrics, report.ml.metrics
    table.add_row("confirmed", str(report.neutral.confirmed), str(report.ml.confirmed))
    for k in SHOWN:
        table.add_row(k, fmt(a.get(k), k), fmt(b.get(k), k))
    console.print(table)
    console.print(report.verdict, markup=False)
    for path in files:
        console.print(f"wrote {path}", markup=False)


def validate(
    universe: Annotated[
        str | None,
        typer.Option(help=f"A packaged dataset (default {DEFAULT_UNIVERSE}) or synthetic:NxB."),
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
    model: Annotated[
        str | None,
        typer.Option(help="Test this model (registry version or file) instead of walk-forward."),
    ] = None,
    in_sample: Annotated[
        int | None, typer.Option(min=20, help="Walk-forward: sessions to fit each model on (500).")
    ] = None,
    out_of_sample: Annotated[
        int | None, typer.Option(min=5, help="Walk-forward: sessions to test each model on (250).")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=100, help="Bootstrap draws.")] = 2000,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the files (default var/validations/<id>).", file_okay=False),
    ] = None,
) -> None:
    """Compare the pipeline without and with the ML stage on the same out-of-sample period."""
    from swingflow import backtest_output
    from swingflow_common.ml.validate import validate_model, validate_walk_forward
    from swingflow_common.ml.validation_report import write_report

    cfg = _config(config)
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    if model is not None and (in_sample is not None or out_of_sample is not None):
        fail("--in-sample/--out-of-sample apply to the walk-forward, not to --model")
    first, last = _date(start, "--from"), _date(end, "--to")
    if first is not None and last is not None and first > last:
        fail(f"--from {first} is after --to {last}")
    dataset = _dataset(data, universe if universe or data else DEFAULT_UNIVERSE)
    console = Console(stderr=True) if sys.stderr.isatty() else None
    with backtest_output.progress_bar(console, "validate") as progress:
        try:
            if model is not None:
                scorer, info = _model(model, cfg)
                report = validate_model(dataset, cfg, scorer, info, symbols=wanted, start=first,
                                        end=last, n_boot=bootstrap, progress=progress)  # fmt: skip
            else:
                report = validate_walk_forward(
                    dataset, cfg, in_sample_bars=in_sample or 500,
                    out_of_sample_bars=out_of_sample or 250, symbols=wanted, start=first,
                    end=last, n_boot=bootstrap, progress=progress,
                )  # fmt: skip
        except (ValueError, KeyError) as err:
            fail(str(err).strip("'\""))
    files = write_report(report, out or DEFAULT_OUT / report.id)
    print_summary(Console(), report, [files.json, files.html])
