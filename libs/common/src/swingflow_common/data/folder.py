"""Load a user's folder of daily bars: one CSV or Parquet file per symbol.

`AAPL.csv`, `msft.parquet`, `brk.b.csv.gz` give the symbols AAPL, MSFT and BRK.B. Column
names are matched loosely (`Date`/`date`/`timestamp`/`ts`, `Open`/`open`/`o`, ...). A file
that cannot be read as bars is a `DataError` naming the file and the problem; bad rows
inside a readable file are repaired or dropped and listed in `Dataset.issues`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from swingflow_common.data.adjust import back_adjust
from swingflow_common.data.assemble import assemble
from swingflow_common.data.dataset import COLUMNS, INDEX_NAME, Adjustment, DataError, Dataset

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("date", "datetime", "timestamp", "ts", "time", "day"),
    "open": ("open", "o", "openprice"),
    "high": ("high", "h", "highprice"),
    "low": ("low", "l", "lowprice"),
    "close": ("close", "c", "closeprice", "last"),
    "volume": ("volume", "vol", "v"),
    "adj_close": ("adjclose", "adjustedclose", "adjusted", "closeadj"),
}
_OFFSET = r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$"
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._\-]{0,15}")


def _key(name: object) -> str:
    return re.sub(r"[\s_\-.*]", "", str(name).lower())


def _symbol(path: Path) -> str:
    name = path.name
    suffix = next(s for s in SUFFIXES if name.lower().endswith(s))
    symbol = name[: -len(suffix)].upper()
    if not _SYMBOL.fullmatch(symbol):
        raise DataError(
            f"{path}: the file name must be the symbol (1-16 letters, digits, '.', '_' or '-')"
        )
    return symbol


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except Exception as exc:  # any reader failure becomes one clear message
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {exc})") from exc
    if isinstance(frame.index, pd.DatetimeIndex) or _key(frame.index.name) in ALIASES["ts"]:
        frame = frame.reset_index()
    return frame


def _columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    """canonical name -> the file's column name."""
    found: dict[str, str] = {}
    for column in frame.columns:
        for canonical, spellings in ALIASES.items():
            if _key(column) in spellings:
                if canonical in found:
                    raise DataError(
                        f"{path}: columns {found[canonical]!r} and {column!r} both look like "
                        f"{canonical}"
                    )
                found[canonical] = str(column)
    missing = [c for c in (INDEX_NAME, *COLUMNS) if c not in found]
    if missing:
        found_names = ", ".join(map(str, frame.columns))
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)} (found {found_names}); "
            "expected date, open, high, low, close, volume"
        )
    return found


def _dates(values: pd.Series, path: Path) -> pd.DatetimeIndex:
    """Midnight-UTC dates. A stamp with a zone keeps the date it shows on its own clock."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.DatetimeIndex(values)
        if parsed.tz is not None:
            parsed = parsed.tz_localize(None)
    elif pd.api.types.is_integer_dtype(values) and values.between(1900_01_01, 2100_12_31).all():
        parsed = pd.DatetimeIndex(pd.to_datetime(values.astype(str), format="%Y%m%d"))
    elif pd.api.types.is_numeric_dtype(values):
        raise DataError(f"{path}: the date column holds numbers, not dates")
    else:
        parsed = _parse_text_dates(values)
    if len(parsed) and parsed.isna().all():
        raise DataError(f"{path}: no readable date in the date column")
    valid = parsed.dropna()
    if (valid != valid.normalize()).any():
        raise DataError(f"{path}: dates have a time of day; swingflow reads daily bars")
    return parsed.as_unit("ns").tz_localize("UTC").rename(INDEX_NAME)


def _parse_text_dates(values: pd.Series) -> pd.DatetimeIndex:
    """ISO dates fast, anything else element by element; a UTC offset after a time is
    dropped so that the wall-clock date is kept (and offsets may differ across DST)."""
    text = values.astype("string").str.strip().str.replace(_OFFSET, r"\1", regex=True)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if parsed.isna().sum() > text.isna().sum():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
            parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    return pd.DatetimeIndex(parsed)


def read_bars_file(path: Path, *, use_adj_close: bool = False) -> pd.DataFrame:
    """One file as a bar frame (not yet repaired): `ts` index, open..volume columns."""
    raw = _read(path)
    names = _columns(raw, path)
    wanted = list(COLUMNS)
    if use_adj_close:
        if "adj_close" not in names:
            raise DataError(f"{path}: use_adj_close needs an adjusted close column")
        wanted.append("adj_close")
    frame = pd.DataFrame(
        {c: pd.to_numeric(raw[names[c]], errors="coerce").astype(np.float64) for c in wanted}
    )
    frame.index = _dates(raw[names[INDEX_NAME]], path)
    return back_adjust(frame) if use_adj_close else frame


def load_folder(
    path: str | Path, *, use_adj_close: bool = False, adjustment: Adjustment = "raw"
) -> Dataset:
    """Every `*.csv`, `*.csv.gz`, `*.parquet` file in `path` as one symbol each.

    `adjustment` says what the files hold (default `raw`). With `use_adj_close` the
    adjusted-close column back-adjusts open, high, low and close and the dataset is
    `split_dividend`; otherwise an adjusted-close column is ignored.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(SUFFIXES)
    )
    if not files:
        raise DataError(f"{folder}: no {', '.join(SUFFIXES)} file")
    frames: dict[str, pd.DataFrame] = {}
    for file in files:
        symbol = _symbol(file)
        if symbol in frames:
            raise DataError(f"{file}: a second file for symbol {symbol}")
        frames[symbol] = read_bars_file(file, use_adj_close=use_adj_close)
    kind: Adjustment = "split_dividend" if use_adj_close else adjustment
    description = f"{len(frames)} symbol file(s) from {folder}; adjustment {kind}"
    return assemble(folder.name, frames, kind, description)
