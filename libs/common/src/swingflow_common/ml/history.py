"""From a dataset to labeled candidates: every stage-1 candidate the live scanner would
have emitted (`pipeline.history.candidates_over_history`), each with its trade's label.

`end` cuts the dataset itself, so no label reads a bar after it (a trade still open
there is `unfinished` and left out); `start` only limits the signal dates, earlier bars
still warm the indicators up.
"""

from __future__ import annotations

from dataclasses import dataclass

from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike
from swingflow_common.messages import CandidateSignal
from swingflow_common.ml.labels import LabelSet, TradeLabel, label_candidates
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.progress import Progress

CHUNKS = 20  # symbols are scanned in up to this many groups, for progress


@dataclass(frozen=True)
class LabeledHistory:
    """The candidates of one dataset, the labeled ones paired with their labels."""

    dataset: str
    candidates: int
    pairs: tuple[tuple[CandidateSignal, TradeLabel], ...]
    skipped: dict[str, int]


def labeled_history(
    dataset: Dataset,
    config: StrategyConfig,
    start: DateLike | None = None,
    end: DateLike | None = None,
    progress: Progress | None = None,
) -> LabeledHistory:
    """Every candidate of `dataset` between `start` and `end`, labeled."""
    data = dataset.slice(None, end) if end is not None else dataset
    symbols = sorted(data.bars)
    size = max(1, -(-len(symbols) // CHUNKS))
    candidates: list[CandidateSignal] = []
    for k in range(0, len(symbols), size):
        group = symbols[k : k + size]
        candidates += candidates_over_history(data, config, group, start, end)
        if progress is not None:
            progress(f"candidates {dataset.name}", min(k + size, len(symbols)), len(symbols))
    candidates.sort(key=lambda c: (c.ts, c.symbol))

    def labelling(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(f"labels {dataset.name}", done, total)

    labels: LabelSet = label_candidates(candidates, data, config, labelling)
    by_id = {c.id: c for c in candidates}
    pairs = tuple((by_id[t.signal_id], t) for t in labels.labels)
    return LabeledHistory(dataset.name, len(candidates), pairs, labels.skipped)
