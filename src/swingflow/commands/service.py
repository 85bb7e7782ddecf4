"""`swingflow service NAME`: run one service alone, as its container does."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from swingflow.up.plan import SERVICES


def service(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
) -> None:
    """Run one service in the foreground until SIGINT or SIGTERM."""
    if name not in SERVICES:
        typer.echo(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    module = importlib.import_module(f"swingflow_{name}.app")
    module.main()
