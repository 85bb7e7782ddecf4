"""`swingflow up`: the whole platform on this machine (what `make run` runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from swingflow.up.run import run_platform


def up(
    no_feed: Annotated[
        bool,
        typer.Option(
            "--no-feed",
            help="Start everything but the replay (bars come from "
            "another system publishing on md.bars.<SYM>).",
        ),
    ] = False,
    var_dir: Annotated[
        Path, typer.Option("--var", help="Where the database, NATS store and logs live.")
    ] = Path("var"),
) -> None:
    """Run NATS, the database and every service as its own process, with a live status."""
    console = Console()
    var_dir.mkdir(parents=True, exist_ok=True)
    raise typer.Exit(asyncio.run(run_platform(var_dir, with_feed=not no_feed, console=console)))
