"""Stage 3 over NATS: `ml.predict` requests of `CHUNK` candidates, sent together, each
carrying its candidates' feature rows (the compact form of the request: the ml service
then decodes a few arrays instead of every candidate's snapshot); neutral when nobody
answers.

The ml service may be absent, slow, or refuse the request; none of that holds a signal
back. The ML stage is then neutral (0.5, passed) and its reason says why, so a stored
evaluation or a ConfirmedSignal shows that the model had no say.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence

import nats.errors
from nats.aio.client import Client
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.bus import describe
from swingflow_common.config import StrategyConfig
from swingflow_common.messages import (
    CandidateSignal,
    FeatureRows,
    MlPredictReply,
    MlPredictRequest,
)
from swingflow_common.ml.rows import chunked_rows
from swingflow_common.pipeline import MlOutcome, neutral_ml_stage, score_batch
from swingflow_signals import metrics

log = logging.getLogger("swingflow.signals.ml")

ERROR_HEADER = "Nats-Service-Error"  # the NATS services convention for an error reply
CHUNK = 64  # candidates per request (about 60 KB of feature rows); replicas share them
WAVE = 4  # requests whose feature rows are computed together (256 candidates)
# asks whether a model answers, without candidates
NO_ROWS = (
    MlPredictRequest(rows=FeatureRows(signal_ids=(), names=(), values=b""))
    .model_dump_json()
    .encode()
)


class _Answered:
    """An `MlScorer` that returns a reply already received."""

    def __init__(self, reply: MlPredictReply) -> None:
        self.reply = reply

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return self.reply


async def _let_requests_out() -> None:
    """Two turns of the event loop: the request tasks publish (nats-py queues the bytes
    and wakes its flusher), then the flusher writes them to the socket."""
    for _ in range(2):
        await asyncio.sleep(0)


def unavailable(
    candidates: Sequence[CandidateSignal], config: StrategyConfig, why: str
) -> list[MlOutcome]:
    """The neutral stage for each candidate, its reason saying why the model had no say."""
    stage = neutral_ml_stage(config).model_copy(update={"reason": f"{why}: neutral"})
    return [MlOutcome(stage) for _ in candidates]


class MlClient:
    """Asks the ml service to score candidates; `connection` gives the NATS client.

    While the ml service answers without a model, the feature rows (about 10 ms of CPU
    per 1,000 candidates) are not computed: every candidate gets the neutral stage that
    a full request would have brought. That answer is trusted for `recheck` seconds;
    after that a batch first asks with an empty request (a round trip of about 100
    bytes, 1.6 ms on a 200 bars/s stream: a tenth of a batch's time), and a model loaded
    meanwhile answers with its version, so the batch is sent in full. A promoted model
    (`ml.models.updated`, `models_updated`) is asked for from the next batch on, and for
    `recheck` seconds after a promotion every batch asks (the ml service may still be
    loading the model); `recheck` only bounds how long an ml service restarted with a
    model on disk goes unnoticed."""

    def __init__(
        self,
        connection: Callable[[], Client],
        timeout: float,
        recheck: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.timeout = timeout
        self.recheck, self.clock = recheck, clock
        self.model_seen = True  # until an answer says there is no model
        self.no_model_at = -math.inf  # when an answer last said so (`clock`)
        self.updated_at = -math.inf  # when a model was last promoted (`clock`)

    def models_updated(self) -> None:
        """A model was promoted: send the next batch in full."""
        self.model_seen = True
        self.updated_at = self.clock()

    def _trust_no_model(self) -> bool:
        now = self.clock()
        return now - self.no_model_at < self.recheck and now - self.updated_at >= self.recheck

    async def score(
        self, candidates: Sequence[CandidateSignal], config: StrategyConfig
    ) -> list[MlOutcome]:
        """One MlOutcome per candidate, in order."""
        if not candidates:
            return []
        if not self.model_seen:
            if self._trust_no_model():
                return [MlOutcome(neutral_ml_stage(config)) for _ in candidates]
            answer = await self._ask(NO_ROWS, 0)
            if isinstance(answer, str):
                return unavailable(candidates, config, answer)
            if answer.model_version is None:
                return [MlOutcome(neutral_ml_stage(config)) for _ in candidates]
        out: list[MlOutcome] = []
        for chunk, answer in zip(self.chunks(candidates), await self.ask(candidates, config),
                                 strict=True):  # fmt: skip
            if isinstance(answer, str):
                out += unavailable(chunk, config, answer)
            else:
                out += score_batch(chunk, _Answered(answer), config)
        return out

    @staticmethod
    def chunks(candidates: Sequence[CandidateSignal]) -> list[Sequence[CandidateSignal]]:
        """The candidates of each request, in order."""
        return [candidates[i : i + CHUNK] for i in range(0, len(candidates), CHUNK)]

    async def ask(
        self, candidates: Sequence[CandidateSignal], config: StrategyConfig
    ) -> list[MlPredictReply | str]:
        """Each chunk's reply, or why it has none. The feature rows are computed a wave
        of `WAVE` requests at a time, and a wave's requests go out before the next wave
        is computed: the ml service scores them meanwhile (on another core), instead of
        waiting for the whole batch's rows."""
        asked: list[asyncio.Task[MlPredictReply | str]] = []
        step = CHUNK * WAVE
        for start in range(0, len(candidates), step):
            if asked:
                await _let_requests_out()
            for rows in chunked_rows(candidates[start : start + step], config, CHUNK):
                payload = MlPredictRequest(rows=rows).model_dump_json().encode()
                asked.append(asyncio.create_task(self._ask(payload, len(rows.signal_ids))))
        return list(await asyncio.gather(*asked))

    async def _ask(self, payload: bytes, size: int) -> MlPredictReply | str:
        """The ml service's reply, or why there is none (logged and counted)."""
        start = time.perf_counter()
        outcome, why = "answered", ""
        try:
            answer = await self.connection().request(subjects.ML_PREDICT, payload, self.timeout)
        except nats.errors.NoRespondersError:
            outcome, why = "no_responders", "no ml service is running"
        except (TimeoutError, nats.errors.TimeoutError):
            outcome, why = (
                "timeout",
                f"the ml service did not answer within {self.timeout * 1000:.0f} ms",
            )
        except nats.errors.Error as exc:
            outcome, why = "error", f"ml request failed ({type(exc).__name__})"
        metrics.ML_SECONDS.observe(time.perf_counter() - start)
        if outcome == "answered":
            error = (answer.headers or {}).get(ERROR_HEADER)
            if error:
                outcome, why = "refused", f"the ml service refused the request ({error})"
            else:
                try:
                    reply = MlPredictReply.model_validate_json(answer.data)
                except ValidationError as exc:
                    outcome, why = "bad_reply", f"unreadable ml reply ({describe(exc)[:200]})"
        metrics.ML_REQUESTS.labels(outcome).inc()
        if outcome != "answered":
            log.info("ml stage neutral", extra={"why": why, "candidates": size})
            return why
        self.model_seen = reply.model_version is not None
        if not self.model_seen:
            self.no_model_at = self.clock()
        return reply
