"""Relative strength: a symbol's 63-day return ranked against the universe, one session late.

Cross-sectional, so it is not a per-symbol module (no `compute`; the registry skips it).

Percentile of symbol s among the N symbols that have a return on a session:

    pct(s) = (number of others strictly below s + 0.5 x number of others equal to s) / (N - 1)

in [0, 1]: 0 = weakest, 1 = strongest, 0.5 = median; undefined (NaN / None) when N < 2
or s has no return that session.

`rank(panel)` gives, on row t, the percentiles of row t - 1: the live services see bars
one by one and know every symbol's return only for the previous session, so the batch
path lags by one session too and both compute the same numbers. `rank_from_latest` is
that live computation for one symbol from a dict of the previous session's returns.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["rank", "rank_from_latest"]


def rank(roc: pd.DataFrame) -> pd.DataFrame:
    """Date x symbol frame of 63-day returns -> date x symbol frame of lagged percentiles.

    Row t holds the percentiles of row t - 1 among the symbols with a value there; NaN on
    the first row, for a symbol without a value on t - 1, and on rows after a session where
    fewer than two symbols had one.
    """
    ranks = roc.rank(axis=1, method="average")  # 1 + below + (equal others) / 2
    others = roc.notna().sum(axis=1) - 1
    pct = ranks.sub(1.0).div(others.where(others > 0), axis=0)
    return pct.shift(1)


def rank_from_latest(latest: dict[str, float], symbol: str) -> float | None:
    """`symbol`'s percentile among `latest` (the previous session's returns, NaN ignored).

    None when the symbol has no return there (absent or NaN) or no other symbol has one.
    """
    mine = latest.get(symbol)
    if mine is None or math.isnan(mine):
        return None
    values = [v for v in latest.values() if not math.isnan(v)]
    if len(values) < 2:
        return None
    below = sum(1 for v in values if v < mine)
    equal_others = sum(1 for v in values if v == mine) - 1
    return (below + 0.5 * equal_others) / (len(values) - 1)
