"""Technical analysis: one module per concept, each a pure function of one symbol's bars.

`registry.analyze(bars)` runs every module and returns one dict of float64 arrays (see
docs/architecture.md for the keys). Importing this package stays cheap: `analyze`,
`analyze_frame` and `MODULES` load the registry (and with it every module) on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MODULES", "analyze", "analyze_frame"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from swingflow_common.analysis import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
