"""Test factories shared by the libs/common tests: valid bars built from a seeded RNG.

`random_walk_bars` gives an `OHLCV` (what the analysis modules take), `random_walk_frame`
the same bars as a per-symbol frame (what the data layer hands out), `bars_from_closes`
hand-made series whose values a test can reason about. Every builder keeps the bars valid:
high >= max(open, close), low <= min(open, close), volume >= 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from swingflow_common.analysis.base import OHLCV, FloatArray


def daily_ts(n: int, start: str = "2020-01-02") -> np.ndarray:
    """`n` business-day bar open times (midnight UTC) as naive datetime64[ns]."""
    return pd.bdate_range(start, periods=n).to_numpy(dtype="datetime64[ns]")


def random_walk_bars(
    n: int = 300,
    seed: int = 0,
    *,
    start_price: float = 100.0,
    daily_vol: float = 0.02,
    mean_volume: float = 1_000_000.0,
    start: str = "2020-01-02",
) -> OHLCV:
    """`n` valid daily bars from a seeded geometric random walk.

    Open gaps from the previous close, the high and low reach past the body by a random
    fraction of the daily volatility, volume is log-normal around `mean_volume`.
    """
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(rng.normal(0.0, daily_vol, n)))
    prev = np.concatenate(([start_price], close[:-1]))
    open_ = prev * np.exp(rng.normal(0.0, daily_vol / 4.0, n))
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = top * np.exp(np.abs(rng.normal(0.0, daily_vol / 2.0, n)))
    low = bottom * np.exp(-np.abs(rng.normal(0.0, daily_vol / 2.0, n)))
    volume = np.round(mean_volume * rng.lognormal(0.0, 0.4, n))
    return OHLCV(
        ts=daily_ts(n, start),
        open=np.ascontiguousarray(open_),
        high=np.ascontiguousarray(high),
        low=np.ascontiguousarray(low),
        close=np.ascontiguousarray(close),
        volume=np.ascontiguousarray(volume, dtype=np.float64),
    )


def to_frame(bars: OHLCV) -> pd.DataFrame:
    """Bars as the data layer's frame: tz-aware UTC index `ts`, float64 OHLCV columns."""
    index = pd.DatetimeIndex(bars.ts, name="ts").tz_localize("UTC")
    return pd.DataFrame(
        {
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        },
        index=index,
    )


def random_walk_frame(n: int = 300, seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """`random_walk_bars` as a frame (same arguments)."""
    return to_frame(random_walk_bars(n, seed, **kwargs))


def bars_from_closes(
    close: FloatArray | list[float],
    *,
    spread: float = 0.0,
    volume: float = 1_000.0,
    open_: FloatArray | list[float] | None = None,
) -> OHLCV:
    """Hand-made bars around given closes.

    Open defaults to the previous close (the first bar opens at its close); high and low
    sit `spread` above and below the body, so `spread=0` gives bars with no wicks.
    """
    c = np.asarray(close, dtype=np.float64)
    o = np.concatenate((c[:1], c[:-1])) if open_ is None else np.asarray(open_, np.float64)
    return OHLCV(
        ts=daily_ts(c.shape[0]),
        open=np.ascontiguousarray(o),
        high=np.maximum(o, c) + spread,
        low=np.minimum(o, c) - spread,
        close=np.ascontiguousarray(c),
        volume=np.full(c.shape[0], volume),
    )
