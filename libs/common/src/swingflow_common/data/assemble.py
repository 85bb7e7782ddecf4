"""Turn per-symbol frames read from a source into a repaired `Dataset`.

Shared by the packaged datasets and the folder loader so both report problems the same
way: sessions missing for the whole universe once (symbol `*`), then each symbol's own
bad rows and gaps, and a symbol left with no valid bar is dropped with an issue.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from swingflow_common.data.dataset import Adjustment, DataIssue, Dataset
from swingflow_common.data.gaps import missing_sessions, universe_issues
from swingflow_common.data.validation import repair


def assemble(
    name: str,
    frames: Mapping[str, pd.DataFrame],
    adjustment: Adjustment,
    description: str,
    *,
    require_volume: bool = True,
    issues: tuple[DataIssue, ...] = (),
) -> Dataset:
    """Repair every frame, report universe-wide missing sessions once, build the Dataset.

    `issues` are problems found earlier (for example an unreadable file) and come first.
    """
    missing = missing_sessions(
        pd.DatetimeIndex(f.index) for f in frames.values() if isinstance(f.index, pd.DatetimeIndex)
    )
    found: list[DataIssue] = [*issues, *universe_issues(missing)]
    bars: dict[str, pd.DataFrame] = {}
    for symbol in sorted(frames):
        frame, symbol_issues = repair(
            frames[symbol], symbol, known_missing=missing, require_volume=require_volume
        )
        found += symbol_issues
        if len(frame):
            bars[symbol] = frame
        else:
            found.append(DataIssue(symbol, None, "no_valid_bars", "no bar survived", "dropped"))
    return Dataset(name, bars, adjustment, tuple(found), description)
