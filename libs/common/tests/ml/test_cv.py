"""Purged walk-forward CV: no training trade overlaps a test fold's span or sits within the
embargo of it, training always precedes testing, and folds are whole dates."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.ml.cv import holdout_split, walk_forward_folds

DAY = np.timedelta64(1, "D")


def samples(n: int = 600, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Trades on random days of ~3 years, several per day, lasting 1 to 30 days."""
    rng = np.random.default_rng(seed)
    starts = np.datetime64("2020-01-01") + rng.integers(0, 1000, n) * DAY
    ends = starts + rng.integers(1, 31, n) * DAY
    return starts.astype("datetime64[ns]"), ends.astype("datetime64[ns]")


@pytest.mark.parametrize("embargo_days", [0, 5])
def test_no_training_trade_overlaps_or_nears_its_test_fold(embargo_days: int) -> None:
    starts, ends = samples()
    embargo = embargo_days * DAY
    folds = walk_forward_folds(starts, ends, 5, embargo)
    assert len(folds) == 5
    tested: list[int] = []
    for fold in folds:
        assert len(fold.train) > 0
        assert len(fold.test) > 0
        lo, hi = starts[fold.test].min(), ends[fold.test].max()
        tr_s, tr_e = starts[fold.train], ends[fold.train]
        assert not np.any((tr_s <= hi) & (tr_e >= lo))  # purge: no overlap with the test span
        assert np.all(tr_e < lo - embargo)  # walk-forward, and the embargo before the test
        assert tr_s.max() < starts[fold.test].min()
        assert fold.purged > 0  # the constructed trades do reach into the next fold
        tested += fold.test.tolist()
    assert len(tested) == len(set(tested))  # test folds are disjoint
    assert sorted(tested) == sorted(set(range(len(starts))) - set(_first_block(folds, starts)))


def _first_block(folds: list, starts: np.ndarray) -> list[int]:  # type: ignore[type-arg]
    first_test = starts[folds[0].test].min()
    return [i for i in range(len(starts)) if starts[i] < first_test]


def test_a_date_is_never_split_between_folds() -> None:
    starts, ends = samples()
    folds = walk_forward_folds(starts, ends, 4, 0 * DAY)
    dates = [set(starts[f.test].tolist()) for f in folds]
    for a in range(len(dates)):
        for b in range(a + 1, len(dates)):
            assert not dates[a] & dates[b]


def test_the_holdout_is_the_latest_part_and_the_fit_part_is_purged_of_it() -> None:
    starts, ends = samples()
    train = np.arange(len(starts), dtype=np.int64)
    fit, hold = holdout_split(train, starts, ends, 0.25, 3 * DAY)
    assert 0.2 * len(starts) < len(hold) < 0.3 * len(starts)
    lo = starts[hold].min()
    assert np.all(ends[fit] < lo - 3 * DAY)
    assert not set(fit.tolist()) & set(hold.tolist())


def test_too_few_dates_for_the_folds_is_an_error() -> None:
    starts = np.array(["2020-01-01"] * 5, dtype="datetime64[ns]")
    with pytest.raises(ValueError, match="signal dates"):
        walk_forward_folds(starts, starts, 3, 0 * DAY)
