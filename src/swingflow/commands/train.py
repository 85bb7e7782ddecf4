"""`swingflow train`: label every candidate of the history, train the stage-3 model with
purged walk-forward CV, print the out-of-sample report as it is, save the model and its
JSON and HTML reports under `ml_model_path`, register it, and promote it (announcing it
on `ml.models.updated`) only when it beats the promoted model out of sample.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from swingflow.commands.scan import WIDE, _config, fail

if TYPE_CHECKING:
    from swingflow_common.data import Dataset
    from swingflow_common.ml.job import Recorded, Trained

DEFAULT_UNIVERSES = ("bokeh-2000-2013-adjusted", "megacaps-2013-2023")
NATS_TIMEOUT = 2.0


def _datasets(data: Path | None, universes: list[str] | None) -> list[Dataset]:
    from swingflow_common.data import DataError, load_builtin, load_folder

    if data is not None and universes:
        fail("give either --data or --universe, not both")
    try:
        if data is not None:
            return [load_folder(data)]
        return [load_builtin(name) for name in universes or DEFAULT_UNIVERSES]
    except DataError as err:
        fail(str(err))


def _train(datasets: list[Dataset], config: Any, start: str | None, end: str | None) -> Trained:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swingflow_common.ml.job import train_datasets

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
        tasks: dict[str, Any] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            return train_datasets(datasets, config, start, end, progress=step)
        except (ValueError, KeyError) as err:
            fail(str(err))


async def _record(trained: Trained, config: Any, promote: bool) -> Recorded:
    from swingflow_common.db import engine_from_url, session_factory
    from swingflow_common.db.migrate import migrate_async
    from swingflow_common.ml.job import record
    from swingflow_common.settings import CommonSettings, load_settings

    settings = load_settings(CommonSettings)
    await migrate_async(settings.database_url)
    engine = engine_from_url(settings.database_url)
    try:
        sessions = session_factory(engine)
        return await record(trained.result, config, sessions, datetime.now(UTC), promote)
    finally:
        await engine.dispose()


async def _reachable(url: str) -> None:
    """Open and close a TCP connection to the first server of `url` (nats-py would retry
    an unreachable server for a long while, logging each attempt)."""
    from urllib.parse import urlsplit

    first = urlsplit(url.split(",")[0].strip())
    _, writer = await asyncio.open_connection(first.hostname or "127.0.0.1", first.port or 4222)
    writer.close()
    await writer.wait_closed()


async def _announce(recorded: Recorded) -> str:
    import nats

    from swingflow_common.ml.registry import announce
    from swingflow_common.settings import CommonSettings, load_settings

    if recorded.update is None:
        return ""
    url = load_settings(CommonSettings).nats_url

    try:
        await asyncio.wait_for(_reachable(url), NATS_TIMEOUT)
        client = await nats.connect(url, connect_timeout=NATS_TIMEOUT, allow_reconnect=False)
    except Exception as exc:
        return (
            f"not announced: NATS at {url} unreachable ({type(exc).__name__}); the ml "
            "service loads the promoted model when it starts"
        )
    try:
        await announce(client, recorded.update)
    finally:
        await client.drain()
    return f"announced on ml.models.updated at {url}"


def print_report(console: Console, report: dict[str, Any]) -> None:
    """The out-of-sample figures as they came out, warnings included."""
    from swingflow_common.ml.report import fmt, warnings

    for d in report.get("datasets", []):
        console.print(f"{d['name']}: {d['candidates']} candidates, {d['labeled']} labeled, "
                      f"skipped {d['skipped'] or 'none'}")  # fmt: skip
    folds = Table(title="Purged walk-forward folds (out of sample)")
    for head in ("fold", "test period", "train", "purged", "test", "AUC", "Brier", "skill",
                 "kept", "exp. all", "exp. kept"):  # fmt: skip
        folds.add_column(head, justify="right")
    for f in report["folds"]:
        folds.add_row(str(f["fold"]), f"{f['test']['start']}..{f['test']['end']}",
                      str(f["train"]["n"]), str(f["train"]["purged"]), str(f["n"]),
                      fmt(f["auc"], 3), fmt(f["brier"]), fmt(f["brier_skill"], 3),
                      str(f["kept"]), fmt(f["lift"]["expectancy_all"]),
                      fmt(f["lift"]["expectancy_kept"]))  # fmt: skip
    console.print(folds)
    oos, lift = report["out_of_sample"], report["out_of_sample"]["lift"]
    console.print(f"Out of sample, pooled: {oos['n']} trades, AUC {fmt(oos['auc'], 3)}, "
                  f"Brier {fmt(oos['brier'])} (training win rate alone: "
                  f"{fmt(oos['brier_reference'])}, skill {fmt(oos['brier_skill'], 3)}), "
                  f"precision {fmt(oos['precision'], 3)}")  # fmt: skip
    console.print(f"Lift: win rate {fmt(lift['win_rate_all'], 3)} all -> "
                  f"{fmt(lift['win_rate_kept'], 3)} kept ({lift['kept']} of {lift['trades']}), "
                  f"95% CI of the difference {fmt(lift['win_rate_lift_ci'], 3)}; expectancy "
                  f"{fmt(lift['expectancy_all'])} -> {fmt(lift['expectancy_kept'])}, "
                  f"CI {fmt(lift['expectancy_lift_ci'])}")  # fmt: skip
    calibration = ", ".join(f"{r['predicted']:.2f}->{r['observed']:.2f} (n={r['n']})"
                            for r in oos["calibration_table"])  # fmt: skip
    console.print(f"Calibration (predicted -> observed): {calibration}")
    top = ", ".join(f"{k} {v:.3f}" for k, v in list(report["importance_oos"].items())[:8])
    console.print(f"Top features (mean |SHAP|, out of sample): {top}")
    for line in warnings(report):
        console.print(f"[yellow]warning:[/yellow] {line}")


def train(
    universe: Annotated[
        list[str] | None,
        typer.Option(
            help="A packaged dataset; repeat to train on several "
            f"(default: {' + '.join(DEFAULT_UNIVERSES)})."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="A folder of CSV/Parquet files, one per symbol.", file_okay=False),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First signal date YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last date YYYY-MM-DD: no bar after it is read, labels included."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Strategy config (default: ./swing_config.json if present)."),
    ] = None,
    no_promote: Annotated[
        bool, typer.Option("--no-promote", help="Register the model but never promote it.")
    ] = False,
) -> None:
    """Train the ML stage on the platform's own candidates and report out of sample."""
    cfg = _config(config)
    datasets = _datasets(data, universe)
    trained = _train(datasets, cfg, start, end)
    console = Console() if sys.stdout.isatty() else Console(width=WIDE)
    print_report(console, trained.result.report)
    recorded = asyncio.run(_record(trained, cfg, not no_promote))
    console.print(f"model {recorded.version}: {recorded.model_path} (sha256 {recorded.sha256})")
    console.print(f"reports: {recorded.report_json}, {recorded.report_html}")
    verdict = "promoted" if recorded.promoted else "not promoted"
    console.print(f"{verdict}: {recorded.reason}")
    note = asyncio.run(_announce(recorded))
    if note:
        console.print(note)
