"""Rolling VWAP (14): typical price (H + L + C) / 3 weighted by volume over 14 bars.

A rolling, not session-anchored, VWAP: daily bars have no intraday session to anchor on.
`close_vs_vwap` = close / vwap - 1 says how stretched the close is from where volume
traded lately. NaN during the 13-bar warm-up and where the window's volume is 0.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import divide
from swingflow_common.analysis.base import OHLCV, Features

NAME = "vwap"
KEYS: tuple[str, ...] = ("vwap_14", "close_vs_vwap")
PERIOD = 14


def compute(bars: OHLCV) -> Features:
    """Rolling VWAP and the close's relative distance from it."""
    typical = (bars.high + bars.low + bars.close) / 3.0
    weighted = talib.SUM(typical * bars.volume, timeperiod=PERIOD)
    vwap = divide(weighted, talib.SUM(bars.volume, timeperiod=PERIOD))
    return {"vwap_14": vwap, "close_vs_vwap": bars.close / vwap - 1.0}
