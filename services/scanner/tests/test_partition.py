"""Partitioning symbols among replicas: stable, exclusive, balanced enough."""

from __future__ import annotations

import zlib
from collections import Counter

import pytest
from scanner_helpers import sp500

from swingflow_scanner.partition import Partition, owner


def test_every_symbol_has_exactly_one_owner() -> None:
    symbols = sorted(sp500().bars)
    for n in (1, 2, 3, 4):
        replicas = [Partition(i, n) for i in range(n)]
        for symbol in symbols:
            assert sum(p.owns(symbol) for p in replicas) == 1


def test_the_owner_is_crc32_of_the_subject_token_so_every_process_agrees() -> None:
    assert owner("BRK.B", 7) == owner("BRK_B", 7) == zlib.crc32(b"BRK_B") % 7
    assert owner("AAPL", 4) == 3060094812 % 4  # CRC-32 of b"AAPL": fixed for all time


def test_the_split_is_roughly_even_on_the_sp500() -> None:
    counts = Counter(owner(s, 4) for s in sp500().bars)
    assert set(counts) == {0, 1, 2, 3}
    assert all(0.18 < c / sum(counts.values()) < 0.32 for c in counts.values())


def test_consumer_names_carry_the_replica_and_count() -> None:
    p = Partition(1, 3)
    assert (p.bars_durable, p.ticks_durable) == ("scanner-1-of-3", "scanner-ticks-1-of-3")


def test_a_replica_index_outside_the_count_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not in 0\.\.2"):
        Partition(3, 3)
