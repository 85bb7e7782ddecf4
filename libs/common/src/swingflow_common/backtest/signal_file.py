"""Given entry and exit signals: the `SignalTable` the signal-driven backtest reads, and
the CSV file a user writes them in.

The file has a header and one row a signal:

    symbol,date,action
    AAPL,2023-03-01,entry
    AAPL,2023-03-20,exit

`action` is `entry` or `exit` (any case); `date` is the bar's date, ISO (`2023-03-01`,
or a midnight timestamp such as `2023-03-01T00:00:00Z`); symbols are upper-cased. Other
columns are ignored. A signal means "seen at that bar's close"; when it fills is the
backtest's business (next open by default). Anything malformed is a `ValueError` naming
the file, the line and the column, so a user can fix it in an editor.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

COLUMNS: tuple[str, ...] = ("symbol", "date", "action")
ACTIONS: tuple[str, ...] = ("entry", "exit")
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9._\-]{0,15}$")


@dataclass(frozen=True, eq=False)
class SignalTable:
    """Entry and exit signals as two aligned boolean frames, dates x symbols.

    Both frames share one index (a sorted, unique, tz-aware UTC `DatetimeIndex` named
    `ts`: midnight of each bar's date, as in `Dataset`) and one column list (the symbols,
    sorted). `entries.loc[day, sym]` is True when an entry signal for `sym` is seen at the
    close of `day`'s bar; likewise `exits`. Build one with `from_frames` (which aligns and
    fills the gaps with False) or `read_signal_file`.
    """

    entries: pd.DataFrame
    exits: pd.DataFrame

    @classmethod
    def from_frames(cls, entries: pd.DataFrame, exits: pd.DataFrame | None = None) -> SignalTable:
        """Align two boolean date x symbol frames (a missing cell is no signal); a naive
        index is read as UTC, symbols are upper-cased."""
        entries = _normalise(entries)
        exits = _normalise(exits) if exits is not None else entries.iloc[:0, :0]
        index = entries.index.union(exits.index)
        columns = sorted(set(entries.columns) | set(exits.columns))

        def align(frame: pd.DataFrame) -> pd.DataFrame:
            out = frame.reindex(index=index, columns=columns, fill_value=False).astype(bool)
            out.index.name = "ts"
            out.columns.name = "symbol"
            return out

        return cls(align(entries), align(exits))

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.entries.columns)

    @property
    def n_entries(self) -> int:
        return int(self.entries.to_numpy().sum())

    @property
    def n_exits(self) -> int:
        return int(self.exits.to_numpy().sum())


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(frame.index)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    out = frame.copy()
    out.index = index
    out.columns = [str(c).upper() for c in frame.columns]
    if out.columns.duplicated().any():
        raise ValueError("signal frame has duplicate symbols (after upper-casing)")
    out = out.fillna(False).astype(bool)
    if not out.index.is_unique:
        out = out.groupby(level=0).any()
    return out.sort_index()


def read_signal_file(path: Path | str, symbols: Iterable[str] | None = None) -> SignalTable:
    """Read a `symbol,date,action` CSV into a `SignalTable`.

    With `symbols`, a signal for any other symbol is an error (say, one the dataset lacks).
    Raises `ValueError` naming the file, line and column of the first bad value, or
    `FileNotFoundError`.
    """
    path = Path(path)
    known = {s.upper() for s in symbols} if symbols is not None else None
    rows: list[tuple[int, str, str, str]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file; expected a header {','.join(COLUMNS)}")
        names = [h.strip().lower() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise ValueError(
                f"{path}: line 1: missing column(s) {', '.join(missing)} "
                f"(header is {','.join(header)!s}; expected {','.join(COLUMNS)})"
            )
        where = {c: names.index(c) for c in COLUMNS}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(record) < len(names):
                raise ValueError(
                    f"{path}: line {line}: {len(record)} field(s), the header has {len(names)}"
                )
            symbol, day, action = (record[where[c]].strip() for c in COLUMNS)
            rows.append(
                (line, _symbol(path, line, symbol, known), day, _action(path, line, action))
            )
    if not rows:
        raise ValueError(f"{path}: no signals (only a header)")
    days = _dates(path, rows)
    frame = pd.DataFrame(
        {"symbol": [r[1] for r in rows], "ts": days, "action": [r[3] for r in rows]}
    )
    index = pd.DatetimeIndex(days).unique().sort_values()

    def table(action: str) -> pd.DataFrame:
        rows = frame[frame["action"] == action]
        if rows.empty:
            return pd.DataFrame(index=index)
        return pd.crosstab(rows["ts"], rows["symbol"]).astype(bool)

    return SignalTable.from_frames(table("entry"), table("exit"))


def _symbol(path: Path, line: int, raw: str, known: set[str] | None) -> str:
    symbol = raw.upper()
    if not _SYMBOL.match(symbol):
        raise ValueError(f"{path}: line {line}: column symbol: {raw!r} is not a symbol")
    if known is not None and symbol not in known:
        raise ValueError(f"{path}: line {line}: column symbol: {symbol} is not in the data")
    return symbol


def _action(path: Path, line: int, raw: str) -> str:
    action = raw.lower()
    if action not in ACTIONS:
        raise ValueError(
            f"{path}: line {line}: column action: {raw!r} is not one of {', '.join(ACTIONS)}"
        )
    return action


def _dates(path: Path, rows: list[tuple[int, str, str, str]]) -> pd.DatetimeIndex:
    raw = pd.Series([r[2] for r in rows], dtype="string")
    parsed = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna() | (parsed != parsed.dt.normalize())
    if bad.any():
        i = int(bad.to_numpy().argmax())
        line, _, day, _ = rows[i]
        why = (
            "not an ISO date" if pd.isna(parsed.iloc[i]) else "not a daily bar's date (has a time)"
        )
        raise ValueError(f"{path}: line {line}: column date: {day!r} is {why}")
    return pd.DatetimeIndex(parsed)
