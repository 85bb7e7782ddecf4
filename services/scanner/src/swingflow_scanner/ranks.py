"""Relative strength as the live scanner sees it: every symbol's `roc_63` per session.

A bar at session t is ranked among the symbols that had a bar on the session before t
(the latest earlier session any symbol traded), exactly as `pipeline.scan` and
`analysis.relative_strength.rank` do in batch. Every session a bar was seen on is kept,
even when no symbol had a 63-day return yet, so "the session before" means the same in
both paths. Only finite returns take part in the ranking.

A rank is `analysis.relative_strength.rank_from_latest`'s percentile, (others strictly
below + 0.5 x others equal) / (N - 1), but counted by bisection in the session's sorted
returns, kept until the session changes: ranking a universe of N symbols costs
N log N, not N^2 (a test checks it against `rank_from_latest`).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import numpy.typing as npt


class RocBook:
    """session (int ns) -> symbol -> roc_63, for the last few sessions."""

    def __init__(self) -> None:
        self._sessions: list[int] = []
        self._rocs: dict[int, dict[str, float]] = {}
        self._sorted: dict[int, npt.NDArray[np.float64]] = {}  # session -> its returns, sorted

    def __len__(self) -> int:
        return len(self._sessions)

    def record(self, symbol: str, session: int, roc: float) -> None:
        """Note `symbol`'s roc_63 on `session` (NaN: the session exists, no return yet)."""
        rocs = self._rocs.get(session)
        if rocs is None:
            rocs = self._rocs[session] = {}
            bisect.insort(self._sessions, session)
        if math.isfinite(roc):
            rocs[symbol] = roc
        else:
            rocs.pop(symbol, None)
        self._sorted.pop(session, None)

    def previous(self, session: int) -> int | None:
        """The latest session before `session`, or None."""
        i = bisect.bisect_left(self._sessions, session)
        return self._sessions[i - 1] if i > 0 else None

    def rank(self, symbol: str, session: int) -> float | None:
        """`symbol`'s rs_rank for a bar on `session`: its percentile the session before."""
        prev = self.previous(session)
        if prev is None:
            return None
        rocs = self._rocs[prev]
        mine = rocs.get(symbol)
        if mine is None or len(rocs) < 2:
            return None
        values = self._sorted.get(prev)
        if values is None:
            values = self._sorted[prev] = np.sort(np.fromiter(rocs.values(), np.float64))
        below = int(np.searchsorted(values, mine, side="left"))
        equal_others = int(np.searchsorted(values, mine, side="right")) - below - 1
        return (below + 0.5 * equal_others) / (len(values) - 1)

    def trim(self, keep: int) -> None:
        """Forget all but the last `keep` sessions."""
        for session in self._sessions[:-keep] if keep > 0 else list(self._sessions):
            del self._rocs[session]
            self._sorted.pop(session, None)
        self._sessions = self._sessions[-keep:] if keep > 0 else []
