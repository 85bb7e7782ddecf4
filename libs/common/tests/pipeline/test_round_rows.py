"""`scoring.round_rows` is Python's `round` of every row, bit for bit: on random values of
every magnitude, on exact decimal ties and on the doubles either side of them (where a
plain `np.round` is known to differ), and on NaN, infinities and signed zeros."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.pipeline.scoring import round_rows, rounded


def _bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", x) for x in values]


def _python(values: np.ndarray, digits: int) -> list[float]:
    return [round(x, digits) for x in values.tolist()]


@pytest.mark.parametrize("digits", [4, 6])
def test_ties_and_their_neighbours_round_as_python_rounds(digits: int) -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(-(10**7), 10**7, 4000)
    ties = (n + 0.5) / 10.0**digits  # the doubles nearest to k.5 / 10**digits
    values = np.concatenate([
        ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf),
        n / 10.0**digits, rng.uniform(0, 1, 4000),
        np.array([0.0, -0.0, 1e-300, -1e-300, 0.5, 2.5, 1e17, -1e17, 2.0**52 + 1,
                  math.nan, math.inf, -math.inf, 0.00005, 0.00015, 1.00005, 0.12345]),
    ])  # fmt: skip
    expected = _python(values, digits)
    got = round_rows(values, digits).tolist()
    assert _bits(got) == _bits(expected)
    assert rounded(values, digits) == pytest.approx(expected, nan_ok=True)
    # np.round alone is not Python's rounding on these: the test would catch a plain swap
    assert _bits(np.round(values, digits).tolist()) != _bits(expected)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=50),
    st.sampled_from([0, 2, 4, 6]),
)
def test_any_floats_round_as_python_rounds(values: list[float], digits: int) -> None:
    array = np.array(values, dtype=np.float64)
    assert _bits(round_rows(array, digits).tolist()) == _bits(_python(array, digits))
