"""Make the shared test helpers (`factories`) importable from every libs/common test.

The suite runs with `--import-mode=importlib`, which leaves sys.path alone, so this folder
is put on it here once.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
