"""A validation's files: the JSON report (`ValidationReport`, read back unchanged) and a
self-contained HTML page (inline SVG plots drawn as the backtest report draws its own, an
autoescaped jinja2 template, no script and nothing fetched).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from swingflow_common.backtest.metrics import METRIC_NAMES
from swingflow_common.backtest.report import drawdowns, fmt
from swingflow_common.backtest.result import EquityPoint
from swingflow_common.ml.validation import ValidationReport
from swingflow_common.svg_plots import equity_days, new_figure, plot_style, svg, templates

HEADLINE = (
    "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "volatility", "exposure",
    "trades", "win_rate", "profit_factor", "expectancy", "avg_trade_return", "avg_r_multiple",
    "sqn", "avg_duration", "total_fees", "probabilistic_sharpe", "buy_and_hold_return",
)  # fmt: skip
NEUTRAL, ML, BENCH = "#7f7f7f", "#1f77b4", "#bbbbbb"

_env = templates(__package__)


def equity_plot(neutral: list[EquityPoint], ml: list[EquityPoint]) -> Markup:
    """Both arms' equity with buy and hold of the same universe."""
    figure = new_figure()
    axes = figure.axes[0]
    axes.plot(
        equity_days(neutral), [p.benchmark for p in neutral], label="buy and hold", color=BENCH
    )
    axes.plot(equity_days(neutral), [p.equity for p in neutral], label="ML neutral", color=NEUTRAL)
    axes.plot(equity_days(ml), [p.equity for p in ml], label="with the model", color=ML)
    axes.set_ylabel("equity")
    axes.legend(loc="upper left")
    return svg(figure, "equity of both arms against buy and hold")


def drawdown_plot(neutral: list[EquityPoint], ml: list[EquityPoint]) -> Markup:
    figure = new_figure(2.2)
    axes = figure.axes[0]
    for points, label, color in ((neutral, "ML neutral", NEUTRAL), (ml, "with the model", ML)):
        axes.plot(
            equity_days(points), [100.0 * d for d in drawdowns(points)], label=label, color=color
        )
    axes.set_ylabel("drawdown %")
    axes.legend(loc="lower left")
    return svg(figure, "drawdown of both arms")


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def render_html(report: ValidationReport) -> str:
    """The report as one HTML document."""
    neutral, ml = list(report.neutral.equity), list(report.ml.equity)
    with plot_style():
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
