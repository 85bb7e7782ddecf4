"""A validation's files: the JSON report (`ValidationReport`, read back unchanged) and a
self-contained HTML page (inline SVG plots drawn as the backtest report draws its own, an
autoescaped jinja2 template, no script and nothing fetched).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import matplotlib as mpl
import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure

from swingflow_common.backtest.metrics import METRIC_NAMES
from swingflow_common.backtest.report import drawdowns, fmt
from swingflow_common.backtest.result import EquityPoint
from swingflow_common.ml.validation import ValidationReport

# The figure and SVG steps below follow backtest.report's (private there): matplotlib's
# object API, inline SVG without its XML prologue, rc settings changed only under a lock.
_RENDER_LOCK = threading.Lock()
_XML_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def _figure(height: float = 3.0) -> Figure:
    figure = Figure(figsize=(9.0, height), layout="constrained")
    figure.add_subplot()
    return figure


def _days(equity: Sequence[EquityPoint]) -> np.ndarray:
    return np.array([p.day for p in equity], dtype="datetime64[D]")


def _svg(figure: Figure, title: str) -> Markup:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": title}):  # ids unique per figure, and repeatable
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = _XML_PROLOGUE.sub("", buffer.getvalue(), count=1)
    label = str(Markup.escape(title))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))


HEADLINE = (
    "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "volatility", "exposure",
    "trades", "win_rate", "profit_factor", "expectancy", "avg_trade_return", "avg_r_multiple",
    "sqn", "avg_duration", "total_fees", "probabilistic_sharpe", "buy_and_hold_return",
)  # fmt: skip
NEUTRAL, ML, BENCH = "#7f7f7f", "#1f77b4", "#bbbbbb"

_env = jinja2.Environment(
    loader=jinja2.FunctionLoader(
        lambda name: resources.files(__package__).joinpath(name).read_text("utf-8")
    ),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def equity_plot(neutral: list[EquityPoint], ml: list[EquityPoint]) -> Markup:
    """Both arms' equity with buy and hold of the same universe."""
    figure = _figure()
    axes = figure.axes[0]
    axes.plot(_days(neutral), [p.benchmark for p in neutral], label="buy and hold", color=BENCH)
    axes.plot(_days(neutral), [p.equity for p in neutral], label="ML neutral", color=NEUTRAL)
    axes.plot(_days(ml), [p.equity for p in ml], label="with the model", color=ML)
    axes.set_ylabel("equity")
    axes.legend(loc="upper left")
    return _svg(figure, "equity of both arms against buy and hold")


def drawdown_plot(neutral: list[EquityPoint], ml: list[EquityPoint]) -> Markup:
    figure = _figure(2.2)
    axes = figure.axes[0]
    for points, label, color in ((neutral, "ML neutral", NEUTRAL), (ml, "with the model", ML)):
        axes.plot(_days(points), [100.0 * d for d in drawdowns(points)], label=label, color=color)
    axes.set_ylabel("drawdown %")
    axes.legend(loc="lower left")
    return _svg(figure, "drawdown of both arms")


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def render_html(report: ValidationReport) -> str:
    """The report as one HTML document."""
    neutral, ml = list(report.neutral.equity), list(report.ml.equity)
    with (
        _RENDER_LOCK,
        mpl.rc_context(
            {"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}
        ),
    ):
        plots = {
            "equity": equity_plot(neutral, ml) if neutral else None,
            "drawdown": drawdown_plot(neutral, ml) if neutral else None,
        }
    names = METRIC_NAMES
    a, b = report.neutral.metrics, report.ml.metrics
    rest = sorted(set(a) - set(HEADLINE))
    rows = [
        (k, names.get(k, ""), a.get(k), b.get(k), _difference(a.get(k), b.get(k)))
        for k in (*[h for h in HEADLINE if h in a], *rest)
    ]
    return _env.get_template("validation.html.j2").render(
        r=report, plots=plots, rows=rows, headline=len([h for h in HEADLINE if h in a]), fmt=fmt
    )


@dataclass(frozen=True)
class ValidationFiles:
    json: Path
    html: Path


def write_report(report: ValidationReport, folder: Path) -> ValidationFiles:
    """`<folder>/validation.json` and `<folder>/validation.html`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = ValidationFiles(folder / "validation.json", folder / "validation.html")
    files.json.write_text(report.model_dump_json(indent=1) + "\n")
    files.html.write_text(render_html(report))
    return files


def read_report(path: Path) -> ValidationReport:
    """A report `write_report` wrote."""
    return ValidationReport.model_validate_json(path.read_text())
