"""One module per `swingflow` subcommand; `swingflow.cli` registers each on the app.

A command module exposes one plain function whose parameters are Typer options; it
imports its heavy dependencies inside the function so `swingflow --help` stays quick.
"""
