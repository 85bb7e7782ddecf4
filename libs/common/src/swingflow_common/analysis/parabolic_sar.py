"""Parabolic SAR (Wilder; step 0.02, maximum 0.2): a trailing stop that flips with the trend.

TA-Lib's SAREXT with the long and short accelerations both 0.02 / 0.02 / 0.2 is TA-Lib's
SAR, but signed: negative while short. So one call gives `psar` (the stop level, below
price in an uptrend, above it in a downtrend) and `psar_dir` (+1 up, -1 down). On the bar
where the trend flips, `psar` is already the new side's stop (the previous extreme point).
TA-Lib picks the first bar's direction from the directional movement of bars 0 and 1.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "parabolic_sar"
KEYS: tuple[str, ...] = ("psar", "psar_dir")
STEP = 0.02
MAXIMUM = 0.2


def compute(bars: OHLCV) -> Features:
    """`psar` and `psar_dir`, NaN on bar 0."""
    signed = talib.SAREXT(
        bars.high,
        bars.low,
        startvalue=0.0,
        offsetonreverse=0.0,
        accelerationinitlong=STEP,
        accelerationlong=STEP,
        accelerationmaxlong=MAXIMUM,
        accelerationinitshort=STEP,
        accelerationshort=STEP,
        accelerationmaxshort=MAXIMUM,
    )
    return {"psar": np.abs(signed), "psar_dir": np.sign(signed)}
