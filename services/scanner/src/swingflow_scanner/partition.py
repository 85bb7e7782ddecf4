"""Scaling out: which scanner replica analyzes which symbol, and the consumers' names.

Each of `replicas` replicas has its own durable consumers (`scanner-<i>-of-<N>` for bars)
and reads every bar: reading is cheap, and every replica needs every symbol's closes for
the cross-sectional relative strength. Only the owner of a symbol, `crc32(token) % N`,
stores its bars, dead-letters its bad messages, analyzes it and publishes its candidates.
crc32 is stable across processes and machines (Python's `hash` of a str is salted per
process), so every replica computes the same owner without talking to the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from swingflow_common import subjects


def owner(symbol: str, replicas: int) -> int:
    """The replica (0..replicas-1) that owns `symbol` (or its subject token)."""
    return zlib.crc32(subjects.token(symbol).encode()) % replicas


@dataclass(frozen=True)
class Partition:
    """This replica's place among `replicas` (`replica` counts from 0)."""

    replica: int = 0
    replicas: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.replica < self.replicas:
            raise ValueError(f"replica {self.replica} is not in 0..{self.replicas - 1}")

    def owns(self, symbol: str) -> bool:
        return self.replicas == 1 or owner(symbol, self.replicas) == self.replica

    @property
    def bars_durable(self) -> str:
        return f"scanner-{self.replica}-of-{self.replicas}"

    @property
    def ticks_durable(self) -> str:
        return f"scanner-ticks-{self.replica}-of-{self.replicas}"
