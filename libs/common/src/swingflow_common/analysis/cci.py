"""Commodity channel index (Lambert, 20): the typical price's distance from its mean.

TA-Lib's CCI: typical price (H + L + C) / 3, CCI = (tp - SMA20(tp)) / (0.015 x mean
absolute deviation of tp over 20 bars), so roughly 70-80 % of values fall in -100..+100;
0 when the 20 bars have no deviation. Pullback setups read a dip below -100 in an uptrend.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "cci"
KEYS: tuple[str, ...] = ("cci_20",)
PERIOD = 20


def compute(bars: OHLCV) -> Features:
    """`cci_20`, NaN for the first 19 bars."""
    return {"cci_20": talib.CCI(bars.high, bars.low, bars.close, timeperiod=PERIOD)}
