"""A backtest's files: the trades CSV, the JSON result and the HTML report.

The CSV has one row a trade and one column a `BacktestTrade` field, under the field's own
name (`signal_ts`, `entry_price`, `fees`, `r_multiple`, `base_signal`...), so what reads it
back (`read_trades_csv`, the ML training, a spreadsheet) sees the contract's names. Times
are ISO 8601 in UTC, a missing value (no stop, no stage score in the signal mode) is empty.
The JSON file is `BacktestResult.model_dump_json`: `read_result` gives the same result back
(a non-finite metric becomes null, as JSON has no infinity).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from swingflow_common.backtest.result import BacktestResult, BacktestTrade

TRADE_COLUMNS: tuple[str, ...] = (
    "seq", "symbol", "setup", "signal_id", "signal_ts", "entry_ts", "entry_price", "exit_ts",
    "exit_price", "exit_reason", "quantity", "stop", "target", "fees", "slippage", "pnl",
    "return_pct", "r_multiple", "bars_held", "base_signal", "confirmation", "ml_confidence",
    "entry_timing", "total",
)  # fmt: skip
assert set(TRADE_COLUMNS) == set(BacktestTrade.model_fields), "CSV columns != BacktestTrade"


def trades_csv(trades: Iterable[BacktestTrade]) -> str:
    """The trades as CSV text with a header row (`TRADE_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TRADE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for trade in trades:
        row = trade.model_dump(mode="json")
        writer.writerow({k: "" if row[k] is None else row[k] for k in TRADE_COLUMNS})
    return buffer.getvalue()


def read_trades_csv(path: Path) -> list[BacktestTrade]:
    """Trades back from a CSV `write_trades_csv` wrote (empty cells are None)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            BacktestTrade.model_validate({k: (v if v != "" else None) for k, v in row.items()})
            for row in csv.DictReader(handle)
        ]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_trades_csv(trades: Iterable[BacktestTrade], path: Path) -> Path:
    return _write(path, trades_csv(trades))


def write_result_json(result: BacktestResult, path: Path) -> Path:
    return _write(path, result.model_dump_json(indent=2))


def read_result(path: Path) -> BacktestResult:
    """A result back from its JSON file."""
    return BacktestResult.model_validate_json(path.read_bytes())


def write_html_report(result: BacktestResult, path: Path) -> Path:
    from swingflow_common.backtest.report import render_html  # matplotlib: imported on use

    return _write(path, render_html(result))


@dataclass(frozen=True)
class ExportedFiles:
    trades_csv: Path | None
    json: Path | None
    html: Path | None


def export_all(
    result: BacktestResult,
    out_dir: Path | None,
    *,
    trades_csv_path: Path | None = None,
    json_path: Path | None = None,
    html_path: Path | None = None,
) -> ExportedFiles:
    """Write the three files: each at its own path when given, else `out_dir`/trades.csv,
    result.json, report.html; with neither, that file is not written."""

    def where(given: Path | None, name: str) -> Path | None:
        return given if given is not None else (out_dir / name if out_dir else None)

    csv_at, json_at, html_at = (
        where(trades_csv_path, "trades.csv"),
        where(json_path, "result.json"),
        where(html_path, "report.html"),
    )
    return ExportedFiles(
        trades_csv=write_trades_csv(result.trades, csv_at) if csv_at else None,
        json=write_result_json(result, json_at) if json_at else None,
        html=write_html_report(result, html_at) if html_at else None,
    )
