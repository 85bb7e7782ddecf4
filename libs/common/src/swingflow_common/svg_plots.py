"""What the HTML reports (backtest, validation) share to draw inline SVG plots.

matplotlib is driven through its object API (no pyplot state); its rc settings are
global, so `plot_style` changes them under one process-wide lock, and every report
renders under it: the gateway can render reports from worker threads. A figure becomes
inline SVG without its XML prologue, labelled for screen readers. Report pages are
jinja2 templates with autoescape on, so data are text, never markup.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources

import jinja2
import matplotlib as mpl
import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure

from swingflow_common.backtest.result import EquityPoint

_XML_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_RENDER_LOCK = threading.Lock()


@contextmanager
def plot_style() -> Iterator[None]:
    """The reports' plot style; rc settings are global, so one render at a time."""
    with (
        _RENDER_LOCK,
        mpl.rc_context(
            {"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}
        ),
    ):
        yield


def new_figure(height: float = 3.0) -> Figure:
    figure = Figure(figsize=(9.0, height), layout="constrained")
    figure.add_subplot()
    return figure


def equity_days(equity: Sequence[EquityPoint]) -> np.ndarray:
    return np.array([p.day for p in equity], dtype="datetime64[D]")


def svg(figure: Figure, title: str) -> Markup:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": title}):  # ids unique per figure, and repeatable
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = _XML_PROLOGUE.sub("", buffer.getvalue(), count=1)
    # the SVG is matplotlib's, whose text is XML-escaped; label it for screen readers
    label = str(Markup.escape(title))
    return Markup(text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))


def templates(package: str) -> jinja2.Environment:
    """An autoescaping jinja2 environment reading templates shipped in `package`."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files(package).joinpath(name).read_text("utf-8")
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
