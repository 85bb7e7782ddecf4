"""`freeze_startup_heap`: everything alive at the call is frozen, young collections are
spaced out, and garbage made afterwards is still collected (cycles included). In a child
process: the call changes the interpreter's collector for good."""

from __future__ import annotations

import json
import subprocess
import sys

from swingflow_common.heap import GEN0_THRESHOLD

CHILD = """
import gc, json, weakref
before = gc.get_threshold()
from swingflow_common.heap import freeze_startup_heap
freeze_startup_heap()
frozen, threshold = gc.get_freeze_count(), gc.get_threshold()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: only the collector frees it
gone = weakref.ref(a)
del a, b
gc.collect()
print(json.dumps({"before": before, "frozen": frozen, "threshold": threshold,
                  "cycle_freed": gone() is None, "tracked_after": len(gc.get_objects())}))
"""


def test_the_startup_heap_is_frozen_and_later_cycles_still_freed() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(out.stdout)
    assert seen["frozen"] > 1_000  # the interpreter's and the imports' objects
    assert seen["tracked_after"] < seen["frozen"] // 10  # a full collection skips them
    assert seen["threshold"] == [GEN0_THRESHOLD, *seen["before"][1:]]
    assert seen["cycle_freed"]
