"""How `swingflow scan` shows a ScanResult: a rich table, JSON or CSV.

JSON carries everything (every stage's score, minimum, reason and details, the weights,
the levels and the funnel) so another program never has to parse the table. CSV is one
flat row per evaluation. The table shows the confirmed signals and the best rejected
ones, and says how many it hid.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import STAGE_NAMES
from swingflow_common.pipeline.integrate import Evaluation
from swingflow_common.pipeline.scan import ScanResult

STAGE_LABELS = {
    "base_signal": "base",
    "confirmation": "conf",
    "ml_confidence": "ml",
    "entry_timing": "timing",
}
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "symbol",
    "date",
    "setup",
    "status",
    "rejected_by",
    "total",
    "threshold",
    "entry",
    "stop",
    "target",
    *STAGE_NAMES,
    "ml_neutral",
    "model_version",
    "reason",
)
DEFAULT_REJECTED_SHOWN = 10


def evaluation_record(e: Evaluation) -> dict[str, Any]:
    """One evaluation as plain JSON data: verdict, levels, and all four stages."""
    c = e.candidate
    return {
        "id": c.id,
        "symbol": c.symbol,
        "date": c.ts.date().isoformat(),
        "setup": c.setup,
        "status": e.status,
        "rejected_by": e.rejected_by,
        "total": e.total,
        "threshold": e.threshold,
        "entry": e.levels.entry,
        "stop": e.levels.stop,
        "target": e.levels.target,
        "close": c.close,
        "atr": c.atr,
        "model_version": e.model_version,
        "reason": e.reason,
        "weights": e.weights,
        "stages": {
            s.stage: {
                "score": s.score,
                "minimum": s.minimum,
                "passed": s.passed,
                "neutral": s.neutral,
                "reason": s.reason,
                "details": s.details,
            }
            for s in e.stages
        },
    }


def shown(result: ScanResult, limit: int | None) -> tuple[Evaluation, ...]:
    """The ranked evaluations, cut to `limit` when given."""
    evals: tuple[Evaluation, ...] = result.evaluations
    return evals if limit is None else evals[:limit]


def to_json(
    result: ScanResult, dataset: str, config: StrategyConfig, limit: int | None = None
) -> str:
    """The whole scan as one JSON document."""
    doc = {
        "dataset": dataset,
        "asof": result.asof.date().isoformat(),
        "previous_session": (
            result.previous_session.date().isoformat() if result.previous_session else None
        ),
        "config": {
            "weights": config.weights.as_dict(),
            "confirm_threshold": config.confirm_threshold,
            "stage_minimums": config.stage_minimums.as_dict(),
            "setups": list(config.setups),
        },
        "funnel": result.funnel.model_dump(mode="json"),
        "evaluations": [evaluation_record(e) for e in shown(result, limit)],
    }
    return json.dumps(doc, indent=2) + "\n"


def to_csv(result: ScanResult, limit: int | None = None) -> str:
    """One flat row per evaluation, stage scores as columns."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in shown(result, limit):
        rec = evaluation_record(e)
        row = {k: rec[k] for k in CSV_COLUMNS if k in rec}
        row |= {name: rec["stages"][name]["score"] for name in STAGE_NAMES}
        row["ml_neutral"] = e.ml_confidence.neutral
        writer.writerow(row)
    return buf.getvalue()


def _table_rows(result: ScanResult, show_all: bool, limit: int | None) -> list[Evaluation]:
    """Every confirmed row and the best rejected ones (all with `show_all`), cut to `limit`."""
    confirmed = [e for e in result.evaluations if e.confirmed]
    rejected = [e for e in result.evaluations if not e.confirmed]
    rows = confirmed + (rejected if show_all else rejected[:DEFAULT_REJECTED_SHOWN])
    return rows if limit is None else rows[:limit]


def _stage_cell(e: Evaluation, name: str) -> Text:
    stage = next(s for s in e.stages if s.stage == name)
    style = "dim" if stage.neutral else ("green" if stage.passed else "red")
    return Text(f"{stage.score:.2f}", style=style)


def _funnel_line(result: ScanResult, dataset: str) -> str:
    f = result.funnel
    stops = ", ".join(f"{k} {v}" for k, v in f.rejected_by.items() if v)
    return (
        f"{dataset} on {result.asof.date().isoformat()}: {f.symbols_scanned} symbols scanned"
        f" ({f.symbols_skipped} skipped: no bar that day), {f.candidates} candidates,"
        f" {f.confirmed} confirmed, {f.rejected} rejected" + (f" ({stops})" if stops else "")
    )


def render_table(
    result: ScanResult,
    console: Console,
    dataset: str,
    show_all: bool = False,
    limit: int | None = None,
) -> None:
    """Print the funnel line, the table of signals and a note on what was hidden."""
    console.print(_funnel_line(result, dataset))
    rows = _table_rows(result, show_all, limit)
    if not rows:
        console.print("no setup found on this date")
        return
    table = Table(show_lines=False, header_style="bold")
    for col in ("symbol", "setup"):
        table.add_column(col, no_wrap=True)
    for col in ("entry", "stop", "target"):
        table.add_column(col, justify="right", no_wrap=True)
    for name in STAGE_NAMES:
        table.add_column(STAGE_LABELS[name], justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("rejected by", no_wrap=True)
    for e in rows:
        verdict = Text(e.status, style="bold green" if e.confirmed else "red")
        table.add_row(
            e.candidate.symbol,
            e.candidate.setup,
            f"{e.levels.entry:.2f}",
            f"{e.levels.stop:.2f}",
            f"{e.levels.target:.2f}",
            *(_stage_cell(e, name) for name in STAGE_NAMES),
            f"{e.total:.3f}",
            verdict,
            e.rejected_by or "",
        )
    console.print(table)
    for note in _notes(result.evaluations, rows):
        console.print(note, style="dim")


def _notes(evals: Sequence[Evaluation], rows: Sequence[Evaluation]) -> list[str]:
    """What the table left out, and a word on the ML stage when no model scored anything."""
    notes = []
    shown_ids = {id(e) for e in rows}
    hidden_confirmed = sum(1 for e in evals if e.confirmed and id(e) not in shown_ids)
    hidden_rejected = sum(1 for e in evals if not e.confirmed and id(e) not in shown_ids)
    if hidden_confirmed:
        notes.append(f"{hidden_confirmed} more confirmed signal(s) past --limit")
    if hidden_rejected:
        notes.append(f"{hidden_rejected} rejected candidate(s) hidden; --all shows every one")
    if evals and all(e.ml_confidence.neutral for e in evals):
        notes.append(f"ml_confidence: {evals[0].ml_confidence.reason} (0.50 for every signal)")
    return notes
