"""The four-stage pipeline as pure functions: setups -> confirmation -> ML -> timing.

The scanner service, the signals service, the CLI and the backtester all call these
same functions (docs/architecture.md, "Pipeline"). Nothing here does I/O or reads a
clock. Two modules are left out of this package's namespace because they load every
analysis module (numba included), which a service running only the later stages does not
need: `pipeline.features` (`compute_features`) and `pipeline.scan` (the universe scan).
"""

from swingflow_common.pipeline.candidates import base_stage, candidates_at, evaluate
from swingflow_common.pipeline.confirmation import confirm
from swingflow_common.pipeline.entry_timing import time_entry
from swingflow_common.pipeline.integrate import Evaluation, Levels, integrate, levels_for
from swingflow_common.pipeline.ml_stage import (
    MlOutcome,
    MlScorer,
    ml_stage,
    neutral_ml_stage,
    score_batch,
)
from swingflow_common.pipeline.setups import SETUPS, SetupHit, detect_setups
from swingflow_common.pipeline.snapshot import Snapshot, snapshot_at

__all__ = [
    "SETUPS",
    "Evaluation",
    "Levels",
    "MlOutcome",
    "MlScorer",
    "SetupHit",
    "Snapshot",
    "base_stage",
    "candidates_at",
    "confirm",
    "detect_setups",
    "evaluate",
    "integrate",
    "levels_for",
    "ml_stage",
    "neutral_ml_stage",
    "score_batch",
    "snapshot_at",
    "time_entry",
]
