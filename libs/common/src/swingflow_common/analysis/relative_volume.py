"""Relative volume (20): today's volume over the mean volume of the 20 bars before it.

Bar i is left out of its own baseline, so a volume spike is measured against what came
before it. NaN for the first 20 bars and where that baseline is 0.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import divide, lag
from swingflow_common.analysis.base import OHLCV, Features

NAME = "relative_volume"
KEYS: tuple[str, ...] = ("rvol_20",)
PERIOD = 20


def compute(bars: OHLCV) -> Features:
    """`rvol_20` = volume[i] / mean(volume[i-20 .. i-1])."""
    baseline = lag(talib.SMA(bars.volume, timeperiod=PERIOD))
    return {"rvol_20": divide(bars.volume, baseline)}
