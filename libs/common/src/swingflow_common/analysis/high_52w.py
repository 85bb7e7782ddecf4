"""52-week high: the highest high of the last 252 bars (bar i included).

`dist_52w_high` = close / high_52w - 1 is 0 at a new high and negative below it; breakout
and trend setups prefer names trading near their yearly high. NaN until 252 bars exist:
a shorter history has no 52-week high, only a high since listing.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "high_52w"
KEYS: tuple[str, ...] = ("high_52w", "dist_52w_high")
PERIOD = 252


def compute(bars: OHLCV) -> Features:
    """The 252-bar high and the close's relative distance below it."""
    high = talib.MAX(bars.high, timeperiod=PERIOD)
    return {"high_52w": high, "dist_52w_high": bars.close / high - 1.0}
