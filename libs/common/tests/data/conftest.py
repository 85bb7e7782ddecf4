"""Helpers for the data tests: a frame builder and the `Dataset` frame contract as a check."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

Row = tuple[str, float, float, float, float, float]  # date, open, high, low, close, volume


def frame_of(rows: Sequence[Row]) -> pd.DataFrame:
    """A bar frame from (date, open, high, low, close, volume) rows, in the order given."""
    index = pd.DatetimeIndex([r[0] for r in rows], name="ts").tz_localize("UTC")
    values = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), 5)
    return pd.DataFrame(values, index=index, columns=["open", "high", "low", "close", "volume"])


def check_contract(frame: pd.DataFrame, *, volume_known: bool = True) -> None:
    """Assert the frame meets the Dataset contract of docs/architecture.md."""
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.dtype) == "datetime64[ns, UTC]"
    assert frame.index.name == "ts"
    assert frame.index.is_monotonic_increasing
    assert frame.index.is_unique
    assert len(frame) > 0
    for column in ("open", "high", "low", "close", "volume"):
        assert frame[column].dtype == np.float64, column
    o, h, lo, c, v = (frame[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    assert np.isfinite([o, h, lo, c]).all()
    assert (lo > 0).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (np.maximum(o, c) <= h).all()
    if volume_known:
        assert np.isfinite(v).all()
        assert (v >= 0).all()
    else:
        assert np.isnan(v).all()


@pytest.fixture
def contract() -> Callable[..., None]:
    return check_contract


@pytest.fixture
def make_frame() -> Callable[[Sequence[Row]], pd.DataFrame]:
    return frame_of
