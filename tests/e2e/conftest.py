"""End-to-end tests: make the helper modules of this folder importable (the suite runs
with `--import-mode=importlib`, which leaves sys.path alone)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
