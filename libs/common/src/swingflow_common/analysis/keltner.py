"""Keltner channel, StockCharts version: EMA(20) of close +/- 2 x ATR(10).

Follows the StockCharts ChartSchool worksheet (kept as `cs-kc.csv`), not TA-Lib's
seeding, so that the numbers match the reference people compare against:

* middle: EMA(20) of close seeded with the first close (not with a 20-bar SMA);
* ATR(10): the first value (bar 9) is the mean of the first 10 true ranges, bar 0's
  true range being high - low; then Wilder's smoothing atr = (9 x prev + tr) / 10.

The EMA still carries its seed for a while, so the channel is reported from bar 19 on
(the EMA's usual 20-bar warm-up), NaN before.
"""

from __future__ import annotations

import numpy as np

from swingflow_common.analysis._arrays import nans, recursive_average, true_range
from swingflow_common.analysis.base import OHLCV, Features

NAME = "keltner"
KEYS: tuple[str, ...] = ("kc_upper", "kc_middle", "kc_lower")
EMA_PERIOD = 20
ATR_PERIOD = 10
MULTIPLIER = 2.0


def compute(bars: OHLCV) -> Features:
    """The three bands; NaN before bar `EMA_PERIOD - 1`."""
    n = len(bars)
    if n < EMA_PERIOD:
        return {key: nans(n) for key in KEYS}
    close = bars.close
    middle = recursive_average(close, 2.0 / (EMA_PERIOD + 1), float(close[0]), 0)
    middle[: EMA_PERIOD - 1] = np.nan
    tr = true_range(bars.high, bars.low, close)
    seed = float(tr[:ATR_PERIOD].mean())
    atr = recursive_average(tr, 1.0 / ATR_PERIOD, seed, ATR_PERIOD - 1)
    width = MULTIPLIER * atr
    return {"kc_upper": middle + width, "kc_middle": middle, "kc_lower": middle - width}
