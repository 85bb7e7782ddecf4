"""`swingflow service NAME`: run one service alone, as its container does.

With `SWINGFLOW_PROFILE_DIR` set, the service runs under cProfile and writes its profile to
`<dir>/<name>-<pid>.prof` when it stops (read it with `python -m pstats`). Meant for
benchmarks, which pass their environment on to the services they start
(`SWINGFLOW_PROFILE_DIR=/tmp/prof python -m swingflow.bench pipeline`): it costs about as
much again of the service's Python time, so its figures are for attribution only.
"""

from __future__ import annotations

import cProfile
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from swingflow.up.plan import SERVICES

PROFILE_DIR = "SWINGFLOW_PROFILE_DIR"


def run_profiled(run: Callable[[], None], out: Path) -> None:
    """`run()` under cProfile; its profile goes to `out` however it ends (SystemExit too)."""
    profile = cProfile.Profile()
    try:
        profile.runcall(run)
    finally:
        out.parent.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(out)


def service(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
) -> None:
    """Run one service in the foreground until SIGINT or SIGTERM."""
    if name not in SERVICES:
        typer.echo(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    module = importlib.import_module(f"swingflow_{name}.app")
    profile_dir = os.environ.get(PROFILE_DIR)
    if profile_dir:
        run_profiled(module.main, Path(profile_dir) / f"{name}-{os.getpid()}.prof")
    else:
        module.main()
