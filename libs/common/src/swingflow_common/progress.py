"""Progress of a long job (backtest, training, optimization, data loading).

Domain code takes an optional `Progress` callback and calls it as work advances; the
CLI renders it with rich, the gateway relays it over the WebSocket. Keeping it a plain
callable keeps domain code free of any terminal or network concern.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): `stage` names the step ("candidates", "simulate"...)."""


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: report nothing."""
