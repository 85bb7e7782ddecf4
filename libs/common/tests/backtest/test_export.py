"""The backtest's files: trades CSV, JSON result and the offline HTML report."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from swingflow_common.backtest.export import (
    TRADE_COLUMNS,
    export_all,
    read_result,
    read_trades_csv,
    trades_csv,
)
from swingflow_common.backtest.report import drawdowns, monthly_table, render_html
from swingflow_common.backtest.sample import sample_result


def test_trades_csv_has_one_row_a_trade_with_every_contract_field(tmp_path: Path) -> None:
    result = sample_result()
    path = export_all(result, tmp_path).trades_csv
    assert path == tmp_path / "trades.csv"

    rows = list(csv.DictReader(path.open()))

    assert len(rows) == len(result.trades)
    assert tuple(rows[0]) == TRADE_COLUMNS
    first, trade = rows[0], result.trades[0]
    assert first["symbol"] == "AAPL"
    assert first["setup"] == "trend_pullback"
    assert first["signal_ts"] == "2024-01-04T00:00:00Z"
    assert first["exit_reason"] == "target"
    assert float(first["pnl"]) == pytest.approx(trade.pnl)
    assert float(first["fees"]) == pytest.approx(trade.fees)
    assert float(first["r_multiple"]) == pytest.approx(trade.r_multiple)
    assert float(first["ml_confidence"]) == 0.5


def test_signal_mode_trades_leave_stage_scores_empty_and_read_back_equal(
    tmp_path: Path,
) -> None:
    result = sample_result(mode="signals")
    path = tmp_path / "t.csv"
    path.write_text(trades_csv(result.trades))

    assert next(csv.DictReader(path.open()))["base_signal"] == ""
    assert read_trades_csv(path) == list(result.trades)


def test_json_result_round_trips(tmp_path: Path) -> None:
    result = sample_result(walk_forward=True)
    path = export_all(result, None, json_path=tmp_path / "x" / "r.json").json
    assert path is not None
    assert read_result(path) == result


def test_json_writes_a_non_finite_metric_as_null(tmp_path: Path) -> None:
    result = sample_result()
    result = result.model_copy(update={"metrics": {**result.metrics, "sortino": math.inf}})
    path = export_all(result, tmp_path).json
    assert path is not None
    assert read_result(path).metrics["sortino"] is None


def test_nothing_is_written_without_a_folder_or_a_path(tmp_path: Path) -> None:
    files = export_all(sample_result(), None, trades_csv_path=tmp_path / "only.csv")
    assert files.json is None
    assert files.html is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["only.csv"]


@pytest.fixture(scope="module")
def report() -> str:
    return render_html(sample_result(walk_forward=True))


def test_report_has_every_section_with_inline_svg_plots(report: str) -> None:
    for heading in (
        "Equity against buy and hold", "Drawdown", "Metrics", "Monthly returns",
        "Trade P&amp;L distribution", "Results per setup", "Results per exit reason",
        "Walk-forward: in-sample against out-of-sample",
    ):  # fmt: skip
        assert f"{heading}</h2>" in report
    assert report.count("<svg ") == 5
    assert 'aria-label="equity against buy and hold"' in report
    assert "trend_pullback" in report
    assert "<td>2024</td>" in report  # a row of the monthly heatmap


def test_report_opens_offline(report: str) -> None:
    """No script, stylesheet, image or font from anywhere: every reference is in-page."""
    assert "<script" not in report
    assert "@import" not in report
    urls = re.findall(r"url\(([^)]*)\)", report)
    references = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', report)
    assert all(ref.startswith("#") for ref in urls + references), urls + references


def test_report_escapes_text_from_the_data() -> None:
    result = sample_result()
    hostile = "<script>alert(1)</script>"
    trades = tuple(t.model_copy(update={"setup": hostile}) for t in result.trades)
    result = result.model_copy(
        update={"trades": trades, "dataset": hostile, "by_setup": {hostile: {"trades": 5.0}}}
    )

    page = render_html(result)

    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<sample & test>" not in page  # the config is escaped too


def test_report_without_trades_or_walk_forward_still_renders() -> None:
    empty = sample_result().model_copy(
        update={"trades": (), "by_setup": {}, "by_exit_reason": {}, "by_symbol": {}}
    )
    page = render_html(empty)
    assert page.count("<svg ") == 2  # equity and drawdown only
    assert "Walk-forward" not in page
    assert "No trades." in page


def test_drawdown_is_the_fall_from_the_running_peak() -> None:
    result = sample_result()
    curve = zip(result.equity, (100.0, 120.0, 90.0, 130.0), strict=False)
    points = [p.model_copy(update={"equity": e}) for p, e in curve]
    assert drawdowns(points) == pytest.approx([0.0, 0.0, -0.25, 0.0])


def test_monthly_table_puts_each_month_in_its_year_row() -> None:
    rows = monthly_table({"2023-12": 0.01, "2024-02": -0.02})
    assert rows[0] == (2023, [None] * 11 + [0.01])
    assert rows[1][0] == 2024
    assert rows[1][1][1] == -0.02
