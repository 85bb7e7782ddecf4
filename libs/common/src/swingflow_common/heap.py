"""Garbage collection for long-lived services: no request pays for the startup heap.

A service imports pydantic, numpy, FastStream (and the ml service XGBoost): about 200,000
objects that CPython's cyclic collector tracks, all alive for the life of the process. A
full (generation 2) collection walks every one of them: 130-300 ms of CPU in the ml
service, paid by whichever request happens to allocate the object that triggers it (the
ml benchmark's p95). And a request that decodes 1,000 candidates allocates tens of
thousands of containers, so with the default threshold (700) it stops for a young
collection two dozen times.

`freeze_startup_heap`, called once the service has started (its model loaded), moves
everything alive into the permanent generation (`gc.freeze`, the documented remedy for
long-lived processes), so a full collection walks only what was made since, and raises
the first generation's threshold so a large request runs through with at most one or two
young collections. Reference counting frees almost everything as before; what the
collector alone frees (cycles) waits a little longer, and a cycle among the frozen
startup objects is never freed (a replaced model: at most one per model update).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def freeze_startup_heap() -> None:
    """Collect once, freeze what is left, and space the young collections out."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
