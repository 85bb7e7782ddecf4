"""Purged walk-forward cross-validation with an embargo (after López de Prado, ch. 7).

Each sample is a trade: it starts at its signal's bar and its label is known only at its
exit, so it spans `[start, end]`. Samples are cut by signal date into `n_folds + 1`
consecutive blocks of about equal size (a date is never split); fold k tests on block k
and trains only on earlier blocks (walk-forward: the model never sees the future). Two
rules keep the label of a test trade out of training:

- purge: a training sample whose span overlaps the test span (first test signal to last
  test exit) is dropped;
- embargo: so is one that ends within `embargo` before the test span starts, or starts
  within `embargo` after it ends (indicators computed over trailing windows tie nearby
  samples together).

`holdout_split` cuts a training set the same way into a fitting part and a later
calibration part, so probabilities are calibrated on data the trees never saw and never
on the test fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Times = npt.NDArray[np.datetime64]
Indices = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fold:
    """One walk-forward step: sample positions to train on and to test on."""

    index: int
    train: Indices
    test: Indices
    test_start: np.datetime64  # the first test signal
    test_end: np.datetime64  # the last test exit
    purged: int  # earlier samples dropped by the purge and the embargo


def kept_after_purge(
    candidates: Indices,
    starts: Times,
    ends: Times,
    span: tuple[np.datetime64, np.datetime64],
    embargo: np.timedelta64,
) -> Indices:
    """`candidates` without any sample whose span touches `span` widened by `embargo`."""
    lo, hi = span[0] - embargo, span[1] + embargo
    clash = (starts[candidates] <= hi) & (ends[candidates] >= lo)
    kept: Indices = candidates[~clash]
    return kept


def _blocks(starts: Times, n_blocks: int) -> list[Indices]:
    """Sample positions in time order, cut into `n_blocks` runs of whole dates."""
    order = np.argsort(starts, kind="stable").astype(np.int64)
    dates, first = np.unique(starts[order], return_index=True)
    if len(dates) < n_blocks:
        raise ValueError(f"{len(dates)} signal dates cannot make {n_blocks} blocks")
    targets = np.arange(1, n_blocks) * len(order) / n_blocks
    cuts = np.unique(first[np.clip(np.searchsorted(first, targets), 1, len(first) - 1)])
    return [b for b in np.split(order, cuts) if len(b)]


def walk_forward_folds(
    starts: Times, ends: Times, n_folds: int, embargo: np.timedelta64
) -> list[Fold]:
    """The purged walk-forward folds of samples spanning `[starts[i], ends[i]]`."""
    if len(starts) != len(ends) or np.any(ends < starts):
        raise ValueError("every sample needs an end at or after its start")
    blocks = _blocks(starts, n_folds + 1)
    folds = []
    for k in range(1, len(blocks)):
        test = np.sort(blocks[k])
        span = (starts[test].min(), ends[test].max())
        earlier = np.sort(np.concatenate(blocks[:k]))
        train = kept_after_purge(earlier, starts, ends, span, embargo)
        folds.append(Fold(k, train, test, span[0], span[1], len(earlier) - len(train)))
    return folds


def holdout_split(
    train: Indices, starts: Times, ends: Times, fraction: float, embargo: np.timedelta64
) -> tuple[Indices, Indices]:
    """(fit, holdout): the latest `fraction` of `train` by signal date, and the rest purged
    of it; the holdout is empty when `train` spans too few dates."""
    order = train[np.argsort(starts[train], kind="stable")]
    n_hold = round(len(order) * fraction)
    if n_hold < 1 or n_hold >= len(order):
        return order, order[:0]
    cut_date = starts[order[-n_hold]]
    holdout = order[starts[order] >= cut_date]
    earlier = order[starts[order] < cut_date]
    span = (starts[holdout].min(), ends[holdout].max())
    return kept_after_purge(earlier, starts, ends, span, embargo), holdout
