"""From a bar's features to CandidateSignals (stage 1), and from a candidate to a verdict.

`candidates_at` is what the scanner runs on each closed bar; `evaluate` is what the
signals service (and a backtest, and the CLI scan) runs on each candidate. Both are pure:
the candidate's `ts_event` is the bar time unless the caller passes its own clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import CandidateSignal, StageScore, signal_id
from swingflow_common.pipeline.confirmation import confirm
from swingflow_common.pipeline.entry_timing import time_entry
from swingflow_common.pipeline.integrate import Evaluation, integrate
from swingflow_common.pipeline.ml_stage import MlOutcome, neutral_ml_stage
from swingflow_common.pipeline.setups import SetupHit, detect_setups
from swingflow_common.pipeline.snapshot import snapshot_at

ATR_KEY = "atr_14"


def base_stage(hit: SetupHit, config: StrategyConfig) -> StageScore:
    """The base_signal StageScore of a setup hit."""
    minimum = config.stage_minimums.base_signal
    return StageScore(
        stage="base_signal",
        score=hit.strength,
        minimum=minimum,
        passed=hit.strength >= minimum,
        reason=hit.reason,
        details=hit.details,
    )


def candidates_at(
    symbol: str,
    ts: datetime,
    features: Mapping[str, npt.NDArray[np.float64]],
    i: int,
    config: StrategyConfig,
    rs_rank: float | None = None,
    *,
    ts_event: datetime | None = None,
    hits: Sequence[SetupHit] | None = None,
) -> list[CandidateSignal]:
    """The enabled setups found at bar `i`, as CandidateSignals (none while ATR is unknown).

    The snapshot (every feature at `i`, plus `rs_rank`) is built only when a setup hits.
    `hits`, when given, is what `detect_setups(features, i, config)` already returned.
    """
    if hits is None:
        hits = detect_setups(features, i, config)
    if not hits:
        return []
    atr = float(features[ATR_KEY][i]) if ATR_KEY in features else math.nan
    close = float(features["close"][i])
    if not (math.isfinite(atr) and atr > 0 and math.isfinite(close) and close > 0):
        return []
    snap = snapshot_at(features, i)
    snap["rs_rank"] = rs_rank if rs_rank is not None and math.isfinite(rs_rank) else None
    return [
        CandidateSignal(
            id=signal_id(symbol, ts, hit.setup),
            symbol=symbol,
            ts=ts,
            setup=hit.setup,
            close=close,
            atr=atr,
            base=base_stage(hit, config),
            features=snap,
            ts_event=ts_event or ts,
        )
        for hit in hits
    ]


def evaluate(
    candidate: CandidateSignal, config: StrategyConfig, ml: MlOutcome | None = None
) -> Evaluation:
    """Run stages 2-4 on the candidate's snapshot and integrate (no ML -> neutral stage)."""
    outcome = ml if ml is not None else MlOutcome(neutral_ml_stage(config))
    return integrate(
        candidate,
        confirm(candidate.features, config),
        outcome.stage,
        time_entry(candidate.features, candidate.setup, config),
        config,
        model_version=outcome.model_version,
        ml_contributions=outcome.contributions,
    )
