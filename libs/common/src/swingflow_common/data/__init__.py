"""Market data: packaged real datasets, a user's folder, synthetic universes.

`load(source)` is the one entry point the CLI and the services use: a packaged dataset's
name (see `BUILTIN`), a folder path, or `synthetic:<symbols>x<bars>[:seed]`.
"""

from __future__ import annotations

import re
from pathlib import Path

from swingflow_common.data.builtin import BUILTIN, load_builtin, sp500_sectors
from swingflow_common.data.dataset import Adjustment, DataError, DataIssue, Dataset
from swingflow_common.data.folder import load_folder
from swingflow_common.data.synthetic import synthetic_universe
from swingflow_common.data.validation import repair, validate

__all__ = [
    "BUILTIN",
    "Adjustment",
    "DataError",
    "DataIssue",
    "Dataset",
    "load",
    "load_builtin",
    "load_folder",
    "repair",
    "sp500_sectors",
    "synthetic_universe",
    "validate",
]

_SYNTHETIC = re.compile(r"synthetic:(\d+)x(\d+)(?::(\d+))?")


def load(source: str | Path) -> Dataset:
    """A dataset from a packaged name, a folder of per-symbol files, or a synthetic spec.

    `"sp500-2010"` (any name in `BUILTIN`), `"~/data/daily"` (a folder, see `load_folder`)
    or `"synthetic:500x750"` / `"synthetic:500x750:7"` (symbols x bars, optional seed).
    """
    text = str(source)
    if text in BUILTIN:
        return load_builtin(text)
    spec = _SYNTHETIC.fullmatch(text)
    if spec:
        n_symbols, n_bars, seed = spec.groups()
        return synthetic_universe(int(n_symbols), int(n_bars), seed=int(seed or 0))
    path = Path(text).expanduser()
    if path.is_dir():
        return load_folder(path)
    raise DataError(
        f"{text!r} is neither a packaged dataset ({', '.join(BUILTIN)}), "
        "a folder, nor synthetic:<symbols>x<bars>[:seed]"
    )
