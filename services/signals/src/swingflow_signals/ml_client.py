"""Stage 3 over NATS: one `ml.predict` request per batch, neutral when nobody answers.

The ml service may be absent, slow, or refuse the request; none of that holds a signal
back. The ML stage is then neutral (0.5, passed) and its reason says why, so a stored
evaluation or a ConfirmedSignal shows that the model had no say.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import nats.errors
from nats.aio.client import Client
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.bus import describe
from swingflow_common.config import StrategyConfig
from swingflow_common.messages import CandidateSignal, MlPredictReply, MlPredictRequest
from swingflow_common.pipeline import MlOutcome, neutral_ml_stage, score_batch
from swingflow_signals import metrics

log = logging.getLogger("swingflow.signals.ml")

ERROR_HEADER = "Nats-Service-Error"  # the NATS services convention for an error reply
CHUNK = 64  # candidates per request, well inside NATS's 1 MB message limit


class _Answered:
    """An `MlScorer` that returns a reply already received."""

    def __init__(self, reply: MlPredictReply) -> None:
        self.reply = reply

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return self.reply


def unavailable(
    candidates: Sequence[CandidateSignal], config: StrategyConfig, why: str
) -> list[MlOutcome]:
    """The neutral stage for each candidate, its reason saying why the model had no say."""
    stage = neutral_ml_stage(config).model_copy(update={"reason": f"{why}: neutral"})
    return [MlOutcome(stage) for _ in candidates]


class MlClient:
    """Asks the ml service to score candidates; `connection` gives the NATS client."""

    def __init__(self, connection: Callable[[], Client], timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout

    async def score(
        self, candidates: Sequence[CandidateSignal], config: StrategyConfig
    ) -> list[MlOutcome]:
        """One MlOutcome per candidate, in order."""
        chunks = [candidates[i : i + CHUNK] for i in range(0, len(candidates), CHUNK)]
        results = await asyncio.gather(*(self._score_chunk(c, config) for c in chunks))
        return [outcome for chunk in results for outcome in chunk]

    async def _score_chunk(
        self, candidates: Sequence[CandidateSignal], config: StrategyConfig
    ) -> list[MlOutcome]:
        payload = MlPredictRequest(candidates=tuple(candidates)).model_dump_json().encode()
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
            log.info("ml stage neutral", extra={"why": why, "candidates": len(candidates)})
            return unavailable(candidates, config, why)
        return score_batch(candidates, _Answered(reply), config)
