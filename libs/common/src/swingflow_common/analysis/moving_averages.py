"""Moving averages: the trend filters every setup reads.

Simple averages of 20, 50 and 200 closes and exponential averages of 10, 20 and 50
(TA-Lib's EMA, seeded with the simple mean of its first `p` closes). `sma_50_slope` is
the percent change of `sma_50` over the last 10 bars (1.5 means +1.5 %), a cheap way to
ask whether the medium-term trend is rising.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import lag
from swingflow_common.analysis.base import OHLCV, Features

NAME = "moving_averages"
KEYS: tuple[str, ...] = (
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_10",
    "ema_20",
    "ema_50",
    "sma_50_slope",
)
SLOPE_BARS = 10


def compute(bars: OHLCV) -> Features:
    """The six averages (NaN for the first p - 1 bars) and the slope (from bar 59)."""
    close = bars.close
    sma_50 = talib.SMA(close, timeperiod=50)
    return {
        "sma_20": talib.SMA(close, timeperiod=20),
        "sma_50": sma_50,
        "sma_200": talib.SMA(close, timeperiod=200),
        "ema_10": talib.EMA(close, timeperiod=10),
        "ema_20": talib.EMA(close, timeperiod=20),
        "ema_50": talib.EMA(close, timeperiod=50),
        "sma_50_slope": 100.0 * (sma_50 / lag(sma_50, SLOPE_BARS) - 1.0),
    }
