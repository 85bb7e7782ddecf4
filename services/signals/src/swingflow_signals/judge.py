"""One batch of candidates through stages 2-4: ask ML, evaluate, store every verdict, announce.

The order is the platform's delivery rule: every evaluation (confirmed or rejected, with
its stage scores) is committed before any ConfirmedSignal is published, and each is
published with its signal id as `Nats-Msg-Id`. The batch's ConfirmedSignals go out in
order in one `bus.PublishBatch` (one wait for all their acks, not one each).

Idempotent by signal id. A candidate whose verdict is already stored keeps it (weights
may have changed since; the first verdict stands): the save writes only verdicts that are
new (`repository.save_first_verdicts`), so no read comes before it. If such a candidate
comes back as a JetStream *redelivery* (the earlier attempt may have stopped between the
commit and the publish) and was confirmed, its stored ConfirmedSignal is published again,
and the server drops it if the first one went out. A *new* copy of an old candidate (republished
without its id, or after the duplicate window) is acknowledged and nothing more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import PublishBatch, delivery_count, jetstream
from swingflow_common.db import Writer, repository
from swingflow_common.db.models import SignalRow
from swingflow_common.messages import (
    CandidateSignal,
    ConfirmedSignal,
    utcnow,
)
from swingflow_common.pipeline import Evaluation, evaluate
from swingflow_signals import metrics
from swingflow_signals.ml_client import MlClient
from swingflow_signals.weights import Weights

log = logging.getLogger("swingflow.signals")

Item = tuple[Msg, CandidateSignal]


def restore_confirmed(row: SignalRow, candidate: CandidateSignal) -> ConfirmedSignal:
    """The ConfirmedSignal a stored confirmed verdict was announced as."""
    return ConfirmedSignal.model_validate(
        {
            "id": row.id,
            "symbol": row.symbol,
            "ts": row.ts,
            "setup": row.setup,
            "entry": row.entry,
            "stop": row.stop,
            "target": row.target,
            "stages": row.stages,
            "weights": row.weights,
            "total": min(row.total or 0.0, 1.0),
            "threshold": row.threshold,
            "model_version": row.model_version,
            "ml_contributions": row.ml_contributions,
            "reason": row.reason,
            "ts_event": candidate.ts_event,
        }
    )


def _unique(items: Sequence[Item]) -> list[Item]:
    """The first message of each signal id (a batch may hold one candidate twice)."""
    seen: set[str] = set()
    out = []
    for raw, candidate in items:
        if candidate.id not in seen:
            seen.add(candidate.id)
            out.append((raw, candidate))
    return out


def _count(evaluation: Evaluation) -> None:
    metrics.CANDIDATES.labels(evaluation.status, evaluation.rejected_by or "none").inc()


def _announced(signal: ConfirmedSignal) -> None:
    now = utcnow()
    metrics.EVENT_TO_CONFIRMED.observe(max(0.0, (now - signal.ts_event).total_seconds()))
    metrics.BAR_TO_CONFIRMED.observe(max(0.0, (now - signal.ts).total_seconds()))


class Judge:
    """Judges batches of candidates with the weights in force and the ML service's scores."""

    def __init__(
        self,
        broker: NatsBroker,
        sessions: async_sessionmaker[AsyncSession],
        writer: Writer,
        weights: Weights,
        ml: MlClient,
    ) -> None:
        self.broker = broker
        self.sessions = sessions
        self.writer = writer
        self.weights = weights
        self.ml = ml

    async def judge(self, items: Sequence[Item], retrying: bool = False) -> list[Evaluation]:
        """Evaluate, store and announce a batch; returns the new evaluations. `retrying`:
        the items come back from a failed attempt in this process, which may have committed
        a confirmation and failed to publish it: a stored one is announced again, as for a
        redelivery (the server drops it if it went out)."""
        start = time.perf_counter()
        config = self.weights.config  # one config for the whole batch
        unique = _unique(items)
        outcomes = await self.ml.score([c for _, c in unique], config)
        judged: list[Evaluation] = []
        for (_, candidate), outcome in zip(unique, outcomes, strict=True):
            began = time.perf_counter()
            judged.append(evaluate(candidate, config, outcome))
            metrics.EVALUATION_SECONDS.observe(time.perf_counter() - began)
        # One statement writes the verdicts of the candidates not judged before and says
        # which those were; only the others (rare: a redelivery, or a copy republished
        # without its id) are read back. The statement commits on its own (`db.Writer`),
        # before anything is published.
        stored: dict[str, SignalRow] = {}
        written: set[str] = set()
        if judged:
            async with self.writer.connection() as connection:
                written = await repository.save_first_verdicts(connection, judged)
            before = [c.id for _, c in unique if c.id not in written]
            if before:
                async with self.sessions() as session:
                    stored = await repository.get_signals(session, before)
        evaluations = [e for e in judged if e.candidate.id in written]
        again: list[ConfirmedSignal] = []
        for raw, candidate in unique:
            row = stored.get(candidate.id)
            if row is None:
                continue
            metrics.ALREADY_JUDGED.inc()
            if row.status == "confirmed" and (retrying or delivery_count(raw) > 1):
                again.append(restore_confirmed(row, candidate))
        confirmed = [e.signal for e in evaluations if e.signal is not None]
        out = PublishBatch(jetstream(self.broker))
        try:
            for signal in (*confirmed, *again):
                await out.add(subjects.confirmed(signal.symbol), signal)
            await out.confirm()
        except BaseException:
            out.cancel()
            raise
        for signal in (*confirmed, *again):
            _announced(signal)
        for evaluation in evaluations:
            _count(evaluation)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - start)
        if evaluations:
            log.info(
                "candidates judged",
                extra={"evaluated": len(evaluations), "confirmed": len(confirmed),
                       "republished": len(again), "already_judged": len(stored)},
            )  # fmt: skip
        return evaluations
