"""On-balance volume: volume added on up closes, subtracted on down closes.

TA-Lib's OBV starts at the first bar's volume (its level is arbitrary; only its changes
mean something). `obv_slope_20` is the least-squares slope of OBV over the last 20 bars
divided by the mean volume of those bars: +1 means OBV rose by one average day's volume
per bar (every day an up day), -1 the opposite, so accumulation reads the same on a
thinly and a heavily traded symbol. 0 when the 20 bars traded nothing.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "obv"
KEYS: tuple[str, ...] = ("obv", "obv_slope_20")
SLOPE_PERIOD = 20


def compute(bars: OHLCV) -> Features:
    """`obv` (from bar 0) and `obv_slope_20` (NaN for the first 19 bars)."""
    obv = talib.OBV(bars.close, bars.volume)
    slope = talib.LINEARREG_SLOPE(obv, timeperiod=SLOPE_PERIOD)
    mean_volume = talib.SMA(bars.volume, timeperiod=SLOPE_PERIOD)
    # 0 where nothing traded; NaN (warm-up) stays NaN since NaN != 0
    scaled = np.divide(slope, mean_volume, out=np.zeros(slope.shape[0]), where=mean_volume != 0)
    return {"obv": obv, "obv_slope_20": scaled}
