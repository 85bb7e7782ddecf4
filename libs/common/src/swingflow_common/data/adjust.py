"""Back-adjust raw bars with the source's adjusted close.

A raw series shows a 2:1 split as a 50% one-day drop; analysis and backtests want a
continuous series. Sources that carry an adjusted close (Yahoo-style `Adj Close`) give
the cumulative split-and-dividend factor on each day as `adj_close / close`.
"""

from __future__ import annotations

import pandas as pd

from swingflow_common.data.dataset import PRICE_COLUMNS


def back_adjust(frame: pd.DataFrame, column: str = "adj_close") -> pd.DataFrame:
    """Open, high, low and close times `adj_close / close`; volume divided by that ratio.

    Dividing volume by the same ratio keeps each bar's dollar volume unchanged, so a
    split no longer looks like a volume surge. The `adj_close` column is dropped (it now
    equals `close`). Rows where the ratio is not finite end up with NaN prices, which
    `repair` then drops and reports.
    """
    ratio = frame[column] / frame["close"]
    out = frame.drop(columns=column)
    for name in PRICE_COLUMNS:
        out[name] = out[name] * ratio
    out["volume"] = out["volume"] / ratio
    return out
