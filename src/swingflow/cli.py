"""The `swingflow` command line: one Typer app, one module per subcommand.

To add a command, write `swingflow/commands/<name>.py` with a function whose parameters
are Typer options, and register it below with `app.command("<name>")(module.function)`.
"""

from __future__ import annotations

import typer

from swingflow.commands import backtest, scan, service, train, up, validate

app = typer.Typer(
    name="swingflow",
    help="swingflow: swing-trading signals validated in four stages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """swingflow: scan, backtest, train, optimize and run the platform."""


app.command("scan")(scan.scan)
app.command("backtest")(backtest.backtest)
app.command("train")(train.train)
app.command("validate")(validate.validate)
app.command("up")(up.up)
app.command("service")(service.service)


def main() -> None:
    """The console-script entry point (`swingflow = "swingflow.cli:main"`)."""
    app()
