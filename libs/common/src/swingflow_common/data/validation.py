"""Check one symbol's bars, and repair what can be repaired without inventing prices.

`validate` reports every bad row by symbol and date and changes nothing. `repair` returns
a frame that satisfies the `Dataset` contract (sorted, unique dates, finite positive
prices, low <= open, close <= high, volume >= 0 or NaN when unknown) together with one
`DataIssue` per change, saying what was done. Loaders call `repair`, so a few bad rows in
a source never stop a scan; they show up in `Dataset.issues` instead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.data.dataset import COLUMNS, INDEX_NAME, DataError, DataIssue
from swingflow_common.data.gaps import MIN_GAP_SESSIONS, gap_issues

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

# Rows with these problems cannot be trusted at all: repair drops them.
DROP_KINDS = ("non_finite_price", "non_positive_price", "negative_volume", "non_finite_volume")
_UTC_NS = "datetime64[ns, UTC]"
# A close-to-close log move beyond this (-39% or +65%) is reported as a possible split.
JUMP_LOG_RETURN = 0.5


def _coerce(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """A frame with a UTC DatetimeIndex named `ts` and float64 bar columns (bad cells -> NaN).

    A shallow copy: pandas copy-on-write keeps the caller's frame unchanged.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{symbol}: missing column(s) {', '.join(missing)}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"{symbol}: the index must hold dates, got {type(frame.index).__name__}")
    out = frame.copy(deep=False)
    index = frame.index
    if str(index.dtype) != _UTC_NS or index.name != INDEX_NAME:
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        out.index = index.as_unit("ns").rename(INDEX_NAME)
    dtypes = frame.dtypes
    for column in COLUMNS:
        if dtypes[column] != np.float64:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(np.float64)
    return out


def _values(frame: pd.DataFrame) -> Floats:
    """open, high, low, close, volume as a new (5, n) float64 array (safe to modify)."""
    if tuple(frame.columns) == COLUMNS:  # one block: a single copy, no column lookups
        return np.array(frame.to_numpy(np.float64).T, order="C")
    return np.stack([frame[c].to_numpy(np.float64) for c in COLUMNS])


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _row_problems(values: Floats, require_volume: bool) -> dict[str, tuple[Mask, str]]:
    """kind -> (row mask, message template with {o} {h} {l} {c} {v} {ohlc} fields)."""
    o, h, lo, c, v = values
    finite: Mask = np.asarray(np.isfinite(values[:4]).all(axis=0))
    with np.errstate(invalid="ignore"):
        positive: Mask = finite & np.asarray((values[:4] > 0).all(axis=0))
        top, bottom = np.maximum(o, c), np.minimum(o, c)
        problems: dict[str, tuple[Mask, str]] = {
            "non_finite_price": (~finite, "a price is not a finite number: {ohlc}"),
            "non_positive_price": (finite & ~positive, "a price is zero or negative: {ohlc}"),
            "negative_volume": (v < 0, "volume {v} is negative"),
            "non_finite_volume": (np.isposinf(v), "volume {v} is infinite"),
            "high_below_low": (positive & (h < lo), "high {h} is below low {l}"),
            "high_below_open_close": (
                positive & (h < top),
                "high {h} is below max(open {o}, close {c})",
            ),
            "low_above_open_close": (
                positive & (lo > bottom),
                "low {l} is above min(open {o}, close {c})",
            ),
        }
    if require_volume:
        problems["missing_volume"] = (np.isnan(v), "volume is missing")
    return problems


def _row_issues(
    index: pd.DatetimeIndex,
    values: Floats,
    symbol: str,
    kind: str,
    mask: Mask,
    template: str,
    action: str,
) -> list[DataIssue]:
    issues = []
    for row in np.flatnonzero(mask).tolist():
        o, h, lo, c, v = (_fmt(float(x)) for x in values[:, row])
        ohlc = f"open {o} high {h} low {lo} close {c}"
        text = template.format(o=o, h=h, l=lo, c=c, v=v, ohlc=ohlc)
        issues.append(DataIssue(symbol, index[row], kind, text, action))
    return issues


def _duplicate_issues(index: pd.DatetimeIndex, symbol: str, action: str) -> list[DataIssue]:
    dup = index[index.duplicated(keep=False)]
    counts = pd.Series(1, index=dup).groupby(level=0).size()
    what = "the last is kept" if action == "kept_last" else "dates must be unique"
    return [
        DataIssue(symbol, ts, "duplicate_date", f"{n} rows share this date; {what}", action)
        for ts, n in zip(pd.DatetimeIndex(counts.index), counts.to_numpy(), strict=True)
    ]


def _order(data: pd.DataFrame, symbol: str, action: str) -> tuple[pd.DataFrame, list[DataIssue]]:
    """Drop rows without a date and sort by date (stable), reporting both."""
    issues = []
    bad_dates = np.asarray(data.index.isna())
    if bad_dates.any():
        n = int(bad_dates.sum())
        issues.append(DataIssue(symbol, None, "bad_date", f"{n} row(s) have no date", action))
        data = data[~bad_dates]
    if not data.index.is_monotonic_increasing:
        sort_action = "reported" if action == "reported" else "sorted"
        text = "dates are not in ascending order"
        issues.append(DataIssue(symbol, None, "unsorted", text, sort_action))
        data = data.sort_index(kind="stable")
    return data, issues


def validate(
    frame: pd.DataFrame,
    symbol: str,
    *,
    min_gap: int = MIN_GAP_SESSIONS,
    known_missing: pd.DatetimeIndex | None = None,
    require_volume: bool = True,
) -> list[DataIssue]:
    """Every problem in one symbol's bars, each naming the symbol and the bar's date.

    Checks: rows without a date, unsorted or duplicate dates, non-finite or non-positive
    prices, negative or infinite volume (and missing volume when `require_volume`), high
    below low, open or close outside [low, high], runs of at least `min_gap` NYSE
    sessions without a bar (sessions in `known_missing` are not counted), and price
    jumps (a close more than 39% below or 65% above the one before). Changes nothing.
    Raises `DataError` only when the frame lacks the bar columns or a date index.
    """
    data, issues = _order(_coerce(frame, symbol), symbol, "reported")
    index = pd.DatetimeIndex(data.index)
    issues += _duplicate_issues(index, symbol, "reported")
    values = _values(data)
    for kind, (mask, template) in _row_problems(values, require_volume).items():
        issues += _row_issues(index, values, symbol, kind, mask, template, "reported")
    issues += gap_issues(index, symbol, min_gap=min_gap, known_missing=known_missing)
    issues += _jump_issues(index, values[3], symbol)
    return issues


def repair(
    frame: pd.DataFrame,
    symbol: str,
    *,
    min_gap: int = MIN_GAP_SESSIONS,
    known_missing: pd.DatetimeIndex | None = None,
    require_volume: bool = True,
) -> tuple[pd.DataFrame, list[DataIssue]]:
    """A frame that meets the `Dataset` contract, and one issue per change made.

    Drops rows without a date, with a non-finite or non-positive price, or with negative
    or infinite volume; sorts; keeps the last row of a duplicated date; swaps high and
    low when high < low; widens high/low to bracket open and close. Missing volume is
    kept as NaN (reported when `require_volume`); gaps and price jumps are only reported.
    Never raises on bad rows; raises `DataError` only when the bar columns or the date
    index are missing. The input frame is not modified.
    """
    data, issues = _order(_coerce(frame, symbol), symbol, "dropped")
    index = pd.DatetimeIndex(data.index)
    values = _values(data)
    problems = _row_problems(values, require_volume)
    drop = np.zeros(len(data), dtype=bool)
    for kind in DROP_KINDS:
        mask, template = problems[kind]
        issues += _row_issues(index, values, symbol, kind, mask & ~drop, template, "dropped")
        drop |= mask
    if "missing_volume" in problems:
        mask, template = problems["missing_volume"]
        issues += _row_issues(
            index, values, symbol, "missing_volume", mask & ~drop, template, "kept"
        )
    keep = ~drop
    if index[keep].has_duplicates:
        issues += _duplicate_issues(index[keep], symbol, "kept_last")
        keep[np.flatnonzero(keep)[index[keep].duplicated(keep="last")]] = False
    if not keep.all():
        data, index, values = data[keep], index[keep], values[:, keep]
    range_issues = _fix_ranges(index, values, symbol)
    if range_issues:
        data = data.assign(high=values[1], low=values[2])
    issues += range_issues
    issues += gap_issues(index, symbol, min_gap=min_gap, known_missing=known_missing)
    issues += _jump_issues(index, values[3], symbol)
    return data, issues


def _jump_issues(index: pd.DatetimeIndex, close: Floats, symbol: str) -> list[DataIssue]:
    """Close-to-close moves beyond JUMP_LOG_RETURN: in raw data usually a split."""
    ok = np.isfinite(close) & (close > 0)
    rows = np.flatnonzero(ok)
    if len(rows) < 2:
        return []
    moves = np.diff(np.log(close[rows]))
    issues = []
    for k in np.flatnonzero(np.abs(moves) > JUMP_LOG_RETURN).tolist():
        before, after = rows[k], rows[k + 1]
        change = float(np.expm1(moves[k]))
        text = (
            f"close moved {change:+.1%} from {index[before]:%Y-%m-%d} "
            f"({_fmt(float(close[before]))} -> {_fmt(float(close[after]))}); "
            "a split or other corporate action if the data are unadjusted"
        )
        issues.append(DataIssue(symbol, index[after], "price_jump", text))
    return issues


def _fix_ranges(index: pd.DatetimeIndex, values: Floats, symbol: str) -> list[DataIssue]:
    """Swap high < low, then widen high/low to bracket open and close, in `values`."""
    o, h, lo, c, _ = values
    issues: list[DataIssue] = []
    swapped = h < lo
    if swapped.any():
        text = "high {h} and low {l} swapped"
        issues += _row_issues(index, values, symbol, "high_below_low", swapped, text, "swapped")
        values[1, swapped], values[2, swapped] = lo[swapped], h[swapped]
    top, bottom = np.maximum(o, c), np.minimum(o, c)
    raise_high, lower_low = values[1] < top, values[2] > bottom
    text = "high {h} below max(open {o}, close {c}); high set to that maximum"
    issues += _row_issues(
        index, values, symbol, "high_below_open_close", raise_high, text, "widened"
    )
    text = "low {l} above min(open {o}, close {c}); low set to that minimum"
    issues += _row_issues(index, values, symbol, "low_above_open_close", lower_low, text, "widened")
    values[1] = np.maximum(values[1], top)
    values[2] = np.minimum(values[2], bottom)
    return issues
