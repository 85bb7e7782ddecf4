"""The backtest's HTML report: one self-contained file that opens offline.

The plots are matplotlib figures rendered to SVG and written inline (no script, no CDN,
no image file beside it); the monthly returns heatmap and every table are plain HTML. The
page is a jinja2 template with autoescape on, so a symbol, setup or config value is text,
never markup. matplotlib is driven through its object API (no pyplot state), and its
global rc settings are only touched under a lock, so the gateway can render reports from
worker threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup

from swingflow_common.backtest.metrics import METRIC_NAMES
from swingflow_common.backtest.result import BacktestResult, BacktestTrade, EquityPoint, Metrics
from swingflow_common.svg_plots import equity_days, new_figure, plot_style, svg, templates

WF_PREFERRED = ("total_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate")
_env = templates(__package__)


def _text(value: str) -> str:
    """A label for matplotlib: `$` would start mathtext."""
    return value.replace("$", r"\$")


def equity_plot(equity: Sequence[EquityPoint]) -> Markup:
    figure = new_figure()
    axes = figure.axes[0]
    days = equity_days(equity)
    axes.plot(days, [p.equity for p in equity], label="strategy", color="#1f77b4")
    axes.plot(days, [p.benchmark for p in equity], label="buy and hold", color="#999999")
    axes.set_ylabel("equity")
    axes.legend(loc="upper left")
    return svg(figure, "equity against buy and hold")


def drawdowns(equity: Sequence[EquityPoint]) -> list[float]:
    """Each day's equity below its running peak, as a fraction (0 at a new high)."""
    peak = -math.inf
    out = []
    for point in equity:
        peak = max(peak, point.equity)
        out.append(point.equity / peak - 1.0 if peak > 0 else 0.0)
    return out


def drawdown_plot(equity: Sequence[EquityPoint]) -> Markup:
    figure = new_figure(2.2)
    axes = figure.axes[0]
    values = [100.0 * d for d in drawdowns(equity)]
    axes.fill_between(equity_days(equity), values, 0.0, color="#d62728", alpha=0.4)
    axes.set_ylabel("drawdown %")
    return svg(figure, "drawdown")


def pnl_histogram(trades: Sequence[BacktestTrade]) -> Markup:
    figure = new_figure(2.6)
    axes = figure.axes[0]
    pnl = [t.pnl for t in trades]
    bins = max(5, min(40, len(pnl) // 3))
    axes.hist([p for p in pnl if p > 0], bins=bins, color="#2ca02c", alpha=0.7, label="winners")
    axes.hist([p for p in pnl if p <= 0], bins=bins, color="#d62728", alpha=0.7, label="losers")
    axes.set_xlabel("trade P&L")
    axes.set_ylabel("trades")
    axes.legend()
    return svg(figure, "trade P&L distribution")


def group_pnl_plot(trades: Sequence[BacktestTrade], key: str, title: str) -> Markup:
    totals: dict[str, float] = {}
    for trade in trades:
        name = str(getattr(trade, key))
        totals[name] = totals.get(name, 0.0) + trade.pnl
    figure = new_figure(0.6 + 0.35 * max(1, len(totals)))
    axes = figure.axes[0]
    names = sorted(totals, key=lambda n: totals[n])
    colors = ["#2ca02c" if totals[n] > 0 else "#d62728" for n in names]
    axes.barh([_text(n) for n in names], [totals[n] for n in names], color=colors)
    axes.set_xlabel("net P&L")
    return svg(figure, title)


def monthly_table(monthly: Mapping[str, float]) -> list[tuple[int, list[float | None]]]:
    """Rows of (year, twelve monthly returns or None), oldest year first."""
    years: dict[int, list[float | None]] = {}
    for key, value in monthly.items():
        year, month = (int(part) for part in key.split("-"))
        years.setdefault(year, [None] * 12)[month - 1] = value
    return sorted(years.items())


def heat(value: float | None) -> str:
    """A cell's background: green for gains, red for losses, stronger up to +-10 %."""
    if value is None or not math.isfinite(value):
        return "transparent"
    strength = min(1.0, abs(value) / 0.10)
    hue = 120 if value >= 0 else 0
    return f"hsla({hue}, 60%, 45%, {0.1 + 0.6 * strength:.2f})"


PERCENT_METRICS = frozenset({
    "total_return", "cagr", "return_ann", "volatility", "max_drawdown", "avg_drawdown",
    "exposure", "exposure_time", "buy_and_hold_return", "alpha", "probabilistic_sharpe",
    "best_day", "worst_day", "win_rate", "avg_trade_return", "geo_avg_trade_return",
    "best_trade", "worst_trade", "kelly", "return_pct",
})  # fmt: skip
"""Figures that are fractions (0.05 = 5 %), shown as percentages."""


def fmt(value: float | None, name: str = "") -> str:
    """A figure as a person reads it: fractions of `PERCENT_METRICS` as %, whole numbers
    without decimals, the rest to 4 significant digits; None is n/a."""
    if value is None or not math.isfinite(value):
        return "n/a" if value is None else str(value)
    if name in PERCENT_METRICS:
        return f"{100.0 * value:,.2f}%"
    if float(value).is_integer() and abs(value) < 1e12:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.2f}"


def _columns(groups: Mapping[str, Metrics]) -> list[str]:
    seen: dict[str, None] = {}
    for metrics in groups.values():
        seen.update(dict.fromkeys(metrics))
    return list(seen)


def _wf_columns(result: BacktestResult) -> list[str]:
    present = {k for w in result.walk_forward for k in (*w.in_sample, *w.out_of_sample)}
    preferred = [k for k in WF_PREFERRED if k in present]
    return preferred or sorted(present)[:6]


def render_html(result: BacktestResult) -> str:
    """The report of `result` as one HTML document."""
    trades, equity = result.trades, result.equity
    with plot_style():
        plots = {
            "equity": equity_plot(equity) if equity else None,
            "drawdown": drawdown_plot(equity) if equity else None,
            "pnl": pnl_histogram(trades) if trades else None,
            "setup": group_pnl_plot(trades, "setup", "net P&L by setup") if trades else None,
            "exit": group_pnl_plot(trades, "exit_reason", "net P&L by exit reason")
            if trades
            else None,
        }
    names = METRIC_NAMES
    breakdowns = {
        "setup": (result.by_setup, _columns(result.by_setup)),
        "exit reason": (result.by_exit_reason, _columns(result.by_exit_reason)),
        "symbol": (result.by_symbol, _columns(result.by_symbol)),
    }
    template = _env.get_template("report.html.j2")
    return template.render(
        r=result,
        plots=plots,
        metrics=[(k, names.get(k, ""), v) for k, v in result.metrics.items()],
        breakdowns=breakdowns,
        months=monthly_table(result.monthly),
        wf_columns=_wf_columns(result),
        fmt=fmt,
        heat=heat,
    )
