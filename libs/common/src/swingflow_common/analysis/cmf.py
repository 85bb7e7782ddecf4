"""Chaikin Money Flow (20): volume-weighted position of the close in the bar's range.

Each bar's money-flow multiplier ((C - L) - (H - C)) / (H - L) is +1 at the high and -1 at
the low (0 for a bar with no range); CMF = sum(multiplier x volume) / sum(volume) over
20 bars. Positive values mean buying pressure. NaN during warm-up and for 0 volume.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import divide
from swingflow_common.analysis.base import OHLCV, Features

NAME = "cmf"
KEYS: tuple[str, ...] = ("cmf_20",)
PERIOD = 20


def compute(bars: OHLCV) -> Features:
    """`cmf_20` in [-1, 1]; NaN for i < 19."""
    high, low, close = bars.high, bars.low, bars.close
    multiplier = divide((close - low) - (high - close), high - low)
    multiplier[high == low] = 0.0
    flow = talib.SUM(multiplier * bars.volume, timeperiod=PERIOD)
    return {"cmf_20": divide(flow, talib.SUM(bars.volume, timeperiod=PERIOD))}
