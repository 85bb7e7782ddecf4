"""Donchian channel (20): the highest high and lowest low of the last 20 bars.

Breakout setups ask whether today's high clears the range *before* today, so the module
also gives `high_20_prior`, the highest high of the 20 bars before bar i (bar i excluded).
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import lag
from swingflow_common.analysis.base import OHLCV, Features

NAME = "donchian"
KEYS: tuple[str, ...] = ("dc_upper", "dc_lower", "dc_middle", "high_20_prior")
PERIOD = 20


def compute(bars: OHLCV) -> Features:
    """Upper, lower and middle band over `PERIOD` bars including bar i; NaN for i < 19."""
    upper = talib.MAX(bars.high, timeperiod=PERIOD)
    lower = talib.MIN(bars.low, timeperiod=PERIOD)
    return {
        "dc_upper": upper,
        "dc_lower": lower,
        "dc_middle": (upper + lower) / 2.0,
        "high_20_prior": lag(upper),
    }
