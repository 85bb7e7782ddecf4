"""`scan.jobs`: scan a batch of symbols on a date from the database, as `swingflow scan`
does from a dataset, and publish the candidates.

Jobs sit in the `SCAN` work-queue stream and every replica pulls from the one durable
consumer `subjects.SCANNER_QUEUE`, so each job is taken by exactly one replica, whichever
is free; the database is the shared source, so any replica can serve any symbol.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pandas as pd

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset
from swingflow_common.messages import CandidateSignal, ScanJob
from swingflow_common.pipeline.scan import scan
from swingflow_scanner.state import ROC_BARS
from swingflow_scanner.store import Sessions, known_symbols, recent_bars, to_frame

log = logging.getLogger(__name__)


def _end_of_day(asof: datetime | None) -> datetime | None:
    if asof is None:
        return None
    day: datetime = pd.Timestamp(asof).tz_convert("UTC").normalize().to_pydatetime()
    return day + timedelta(days=1)


async def job_candidates(
    sessions: Sessions, config: StrategyConfig, job: ScanJob
) -> list[CandidateSignal]:
    """The candidates of `job.symbols` on `job.asof` (default: the latest stored day).

    Every stored symbol takes part in the relative-strength ranking, as in a batch scan;
    a symbol the database does not have is skipped (and logged).
    """
    async with sessions() as session:
        stored = set(await known_symbols(session))
    wanted = [s for s in dict.fromkeys(job.symbols) if s in stored]
    if len(wanted) < len(set(job.symbols)):
        log.warning(
            "job symbols not in the database",
            extra={"job_id": job.job_id, "missing": sorted(set(job.symbols) - stored)},
        )
    if not wanted:
        return []
    # the bars before the day too: a roc_63 on the session before needs 64 bars ending there
    counts = {s: config.lookback_bars if s in wanted else ROC_BARS + 1 for s in stored}
    bars = await recent_bars(sessions, counts, before=_end_of_day(job.asof))
    data = Dataset("database", {s: to_frame(b) for s, b in bars.items()}, "raw")
    present = [s for s in wanted if s in data.bars]
    if not present:
        return []
    result = scan(data, config, asof=job.asof, symbols=present)
    return [e.candidate for e in result.evaluations]
