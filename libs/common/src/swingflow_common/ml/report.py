"""The training report as a self-contained HTML page (the JSON report is the data).

Plain tables, no script and nothing fetched, so the file opens anywhere and can be
archived beside the model it describes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
    "padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
    ".warn{background:#fff3cd;padding:.6em;border:1px solid #e0c060}"
)


def fmt(value: Any, digits: int = 4) -> str:
    """A number for people: None as an em dash, floats rounded, intervals as [lo, hi]."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"[{fmt(value[0], digits)}, {fmt(value[1], digits)}]"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def warnings(report: Mapping[str, Any]) -> list[str]:
    """Plain statements of what the out-of-sample figures do not support."""
    oos, lift = report["out_of_sample"], report["out_of_sample"]["lift"]
    out = []
    if oos["brier_skill"] is not None and oos["brier_skill"] <= 0:
        out.append("Out of sample the probabilities are no better than always answering the "
                   "training win rate (Brier skill <= 0).")  # fmt: skip
    if oos["auc"] is not None and oos["auc"] < 0.55:
        out.append(f"Out-of-sample AUC {oos['auc']:.3f}: the model barely ranks winners above "
                   "losers.")  # fmt: skip
    ci = lift.get("expectancy_lift_ci")
    if ci is not None and ci[0] <= 0:
        out.append("The bootstrap interval of the expectancy lift includes zero: filtering by "
                   "the model is not shown to improve the trades.")  # fmt: skip
    return out


def to_html(report: Mapping[str, Any], title: str) -> str:
    """The report as one HTML page."""
    oos, lift = report["out_of_sample"], report["out_of_sample"]["lift"]
    parts = [f"<h1>{html.escape(title)}</h1>"]
    parts.append(f"<p>{report['samples']} labeled candidates ({report['positives']} reached "
                 f"their target first), {report['window']['start']} to "
                 f"{report['window']['end']}. Every figure below is out of sample (purged "
                 "walk-forward folds) unless it says otherwise.</p>")  # fmt: skip
    parts += [f'<p class="warn">{html.escape(w)}</p>' for w in warnings(report)]
    parts.append("<h2>Out of sample, all folds pooled</h2>")
    keys = ("n", "positives", "auc", "brier", "brier_reference", "brier_skill", "precision", "kept")
    parts.append(_table(keys, [[oos[k] for k in keys]]))
    parts.append("<h2>Lift: the trades the model keeps against all of them</h2>")
    parts.append(_table(
        ("", "all", "kept by the model", "difference", "95% bootstrap interval"),
        [("trades", lift["trades"], lift["kept"], None, None),
         ("win rate", lift["win_rate_all"], lift["win_rate_kept"], lift["win_rate_lift"],
          lift["win_rate_lift_ci"]),
         ("expectancy (mean return after costs)", lift["expectancy_all"],
          lift["expectancy_kept"], lift["expectancy_lift"], lift["expectancy_lift_ci"])],
    ))  # fmt: skip
    parts.append("<h2>Calibration</h2>")
    parts.append(_table(("bin", "n", "predicted", "observed"),
                        [(f"{r['low']:.1f}-{r['high']:.1f}", r["n"], r["predicted"], r["observed"])
                         for r in oos["calibration_table"]]))  # fmt: skip
    parts.append("<h2>Folds</h2>")
    parts.append(_table(
        ("fold", "test from", "test to", "train n", "purged", "test n", "auc", "brier",
         "brier skill", "threshold", "kept", "expectancy all", "expectancy kept"),
        [(f["fold"], f["test"]["start"], f["test"]["end"], f["train"]["n"], f["train"]["purged"],
          f["n"], f["auc"], f["brier"], f["brier_skill"], f["threshold"], f["kept"],
          f["lift"]["expectancy_all"], f["lift"]["expectancy_kept"]) for f in report["folds"]],
    ))  # fmt: skip
    parts.append("<h2>Feature importance (mean |SHAP|, out of sample)</h2>")
    top = list(report["importance_oos"].items())[:25]
    parts.append(_table(("feature", "mean |SHAP| (log-odds)"), top))
    parts.append("<h2>Parameters</h2>")
    parts.append(_table(("parameter", "value"), report["params"].items()))
    body = "".join(parts)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")  # fmt: skip
