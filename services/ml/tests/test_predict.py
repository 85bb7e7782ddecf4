"""The ml service on a real nats-server: neutral answers with no model, a plugged-in scorer's
answers, an error reply and a dead letter for a malformed request, replicas sharing work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from faststream.nats import TestApp
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.messages import (
    CandidateSignal,
    DeadLetter,
    MlPrediction,
    MlPredictReply,
    MlPredictRequest,
    StageScore,
    signal_id,
)
from swingflow_common.testing import eventually
from swingflow_ml.app import build_app
from swingflow_ml.handlers import ERROR_HEADER
from swingflow_ml.settings import Settings

TS = datetime(2024, 3, 1, tzinfo=UTC)


def blank(nats_url: str, tmp_path: Path) -> Settings:
    """Settings with a database of its own, empty: no promoted model, the service is neutral."""
    return Settings(nats_url=nats_url, database_url=f"sqlite:///{tmp_path}/ml.db")


def candidate(symbol: str) -> CandidateSignal:
    base = StageScore(stage="base_signal", score=0.8, minimum=0.5, passed=True, reason="test")
    return CandidateSignal(id=signal_id(symbol, TS, "trend_pullback"), symbol=symbol, ts=TS,
                           setup="trend_pullback", close=100, atr=2, base=base,
                           features={"rsi_14": 45.0}, ts_event=TS)  # fmt: skip


class CountingScorer:
    """A stand-in model: probability 0.7 for every candidate, version 'm-1'."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        self.calls += 1
        return MlPredictReply(
            model_version="m-1",
            predictions=tuple(
                MlPrediction(signal_id=c.id, probability=0.7, neutral=False) for c in candidates
            ),
        )


async def ask(client: Client, payload: bytes) -> Msg:
    return await client.request(subjects.ML_PREDICT, payload, timeout=2)


def request_of(*symbols: str) -> bytes:
    return (
        MlPredictRequest(candidates=tuple(candidate(s) for s in symbols)).model_dump_json().encode()
    )


async def dead_letters(js: JetStreamContext, service: str) -> list[DeadLetter]:
    try:
        stored = await js.get_last_msg("DLQ", subjects.dlq(service))
    except nats.js.errors.NotFoundError:
        return []
    return [DeadLetter.model_validate_json(stored.data or b"")]


async def test_with_no_model_every_prediction_is_neutral(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    async with TestApp(build_app(blank(nats_url, tmp_path))):
        client = await nats.connect(nats_url)
        reply = MlPredictReply.model_validate_json(
            (await ask(client, request_of("AAPL", "MSFT"))).data
        )
        await client.drain()

    assert reply.model_version is None
    assert [(p.signal_id, p.probability, p.neutral) for p in reply.predictions] == [
        (candidate("AAPL").id, 0.5, True),
        (candidate("MSFT").id, 0.5, True),
    ]


async def test_a_plugged_in_scorer_answers(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    scorer = CountingScorer()
    async with TestApp(build_app(blank(nats_url, tmp_path), scorer=scorer)):
        client = await nats.connect(nats_url)
        reply = MlPredictReply.model_validate_json((await ask(client, request_of("AAPL"))).data)
        await client.drain()

    assert reply.model_version == "m-1"
    assert [(p.probability, p.neutral) for p in reply.predictions] == [(0.7, False)]
    assert scorer.calls == 1


@pytest.mark.parametrize(
    ("payload", "in_reason"),
    [
        (b"not json", "json"),
        (b'{"type": "ml_predict_request", "schema_version": 1}', "candidates"),
        (b'{"type": "model_updated", "schema_version": 1, "version": "v", "path": "p", '
         b'"sha256": "s"}', "expected a MlPredictRequest"),
        (b'{"schema_version": 1, "candidates": []}', "discriminator 'type'"),
    ],
)  # fmt: skip
async def test_a_malformed_request_gets_an_error_reply_and_a_dead_letter(
    js: JetStreamContext, nats_url: str, tmp_path: Path, payload: bytes, in_reason: str
) -> None:
    async with TestApp(build_app(blank(nats_url, tmp_path))):
        client = await nats.connect(nats_url)
        answer = await ask(client, payload)
        after = MlPredictReply.model_validate_json((await ask(client, request_of("AAPL"))).data)
        await client.drain()

        letters = await dead_letters(js, "ml")

    assert in_reason.lower() in (answer.headers or {}).get(ERROR_HEADER, "").lower()
    assert in_reason.lower() in answer.data.decode().lower()
    assert len(letters) == 1
    assert in_reason.lower() in letters[0].reason.lower()
    assert letters[0].payload == payload.decode()
    assert len(after.predictions) == 1  # the service goes on


async def test_replicas_share_the_requests_through_the_queue_group(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    first, second = CountingScorer(), CountingScorer()
    settings = blank(nats_url, tmp_path)
    async with (
        TestApp(build_app(settings, scorer=first)),
        TestApp(build_app(settings, scorer=second)),
    ):
        client = await nats.connect(nats_url)
        for _ in range(40):
            await ask(client, request_of("AAPL"))
        await client.drain()

    assert first.calls + second.calls == 40  # each request answered once
    assert first.calls > 0
    assert second.calls > 0


async def test_a_model_update_is_noted_and_a_bad_one_dead_lettered(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    async with TestApp(build_app(blank(nats_url, tmp_path))):
        client = await nats.connect(nats_url)
        await client.publish(subjects.ML_MODELS_UPDATED, b'{"type": "model_updated"}')
        await client.flush()
        await eventually(lambda: _has_letter(js))
        reply = MlPredictReply.model_validate_json((await ask(client, request_of("AAPL"))).data)
        await client.drain()

    assert reply.predictions[0].neutral


async def _has_letter(js: JetStreamContext) -> bool:
    letters = await dead_letters(js, "ml")
    return len(letters) == 1 and letters[0].subject == subjects.ML_MODELS_UPDATED
