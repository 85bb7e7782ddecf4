"""The ml service on a real nats-server: neutral answers with no model, a plugged-in scorer's
answers, an error reply and a dead letter for a malformed request, replicas sharing work."""

from __future__ import annotations

import asyncio
import threading
import time
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
from swingflow_common.bus import make_broker
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
from swingflow_ml.handlers import ERROR_HEADER, PredictResponder
from swingflow_ml.scorer import ScorerSlot
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


class BatchingScorer:
    """A stand-in `JsonScorer` that records how requests were grouped. Its first call
    blocks for `hold` seconds (the service's event loop with it, as real scoring does)
    once `holding` is set; candidates of symbol FAIL make it raise."""

    def __init__(self, hold: float = 0.0) -> None:
        self.hold = hold
        self.holding = threading.Event()
        self.groupings: list[int] = []

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        if any(c.symbol == "FAIL" for c in candidates):
            raise RuntimeError("cannot score")
        return MlPredictReply(model_version="m-b", predictions=tuple(
            MlPrediction(signal_id=c.id, probability=0.25, neutral=False) for c in candidates
        ))  # fmt: skip

    def predict_json(self, candidates: Sequence[CandidateSignal]) -> bytes:
        return self.predict(candidates).model_dump_json().encode()

    def predict_json_many(self, requests: Sequence[MlPredictRequest]) -> list[bytes]:
        self.groupings.append(len(requests))
        if len(self.groupings) == 1:
            self.holding.set()
            time.sleep(self.hold)
        return [self.predict_json(request.candidates) for request in requests]


def ask_from_another_thread(
    nats_url: str, start: threading.Event, payloads: list[bytes]
) -> list[Msg]:
    """Once `start` is set, send `payloads` concurrently on a connection and event loop of
    its own (so they are sent while the service's loop is blocked), and wait for the answers."""

    async def run() -> list[Msg]:
        client = await nats.connect(nats_url)
        answers = await asyncio.gather(*(ask(client, payload) for payload in payloads))
        await client.drain()
        return list(answers)

    assert start.wait(timeout=10)
    return asyncio.run(run())


async def test_requests_waiting_together_are_scored_together_each_answered_alone(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    scorer = BatchingScorer(hold=0.5)
    symbols = [f"S{i}" for i in range(10)]
    payloads = [request_of(s, "AAPL") for s in symbols]
    async with TestApp(build_app(blank(nats_url, tmp_path), scorer=scorer)):
        client = await nats.connect(nats_url)
        others = asyncio.get_running_loop().run_in_executor(
            None, ask_from_another_thread, nats_url, scorer.holding, payloads
        )
        await ask(client, request_of("FIRST"))  # scored alone, while the others arrive
        answers = await others
        await client.drain()

    assert scorer.groupings[0] == 1
    assert sum(scorer.groupings) == 11  # every request scored once
    assert max(scorer.groupings[1:]) > 1  # those that waited, together
    for symbol, answer in zip(symbols, answers, strict=True):
        reply = MlPredictReply.model_validate_json(answer.data)
        assert [p.signal_id for p in reply.predictions] == [
            candidate(symbol).id,
            candidate("AAPL").id,
        ]


async def test_a_request_that_fails_to_score_costs_the_others_nothing(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    """Scored alone or with others, the failing request gets an error reply (code 500)
    and the others their answers."""
    scorer = BatchingScorer()
    async with TestApp(build_app(blank(nats_url, tmp_path), scorer=scorer)):
        client = await nats.connect(nats_url)
        good, bad, other = await asyncio.gather(
            ask(client, request_of("AAPL")), ask(client, request_of("FAIL")),
            ask(client, request_of("MSFT")),
        )  # fmt: skip
        after = await ask(client, request_of("IBM"))  # the service goes on
        await client.drain()

    assert (bad.headers or {}).get(ERROR_HEADER) == "the ml service failed to score the request"
    assert (bad.headers or {}).get("Nats-Service-Error-Code") == "500"
    for answer, symbol in ((good, "AAPL"), (other, "MSFT"), (after, "IBM")):
        reply = MlPredictReply.model_validate_json(answer.data)
        assert [p.signal_id for p in reply.predictions] == [candidate(symbol).id]


async def test_a_stopping_responder_answers_what_it_has_received_first(nats_url: str) -> None:
    """Stopped while a batch is being answered and another request waits: both are
    answered before `stop` returns, and nothing after it is taken."""
    broker = make_broker(Settings(nats_url=nats_url), "ml")
    await broker.connect()
    responder = PredictResponder(broker, ScorerSlot(CountingScorer()), queue="ml-stop")
    gate, entered = asyncio.Event(), asyncio.Event()
    answer = responder.answer

    async def held(messages: Sequence[Msg]) -> None:
        entered.set()
        await gate.wait()
        await answer(messages)

    responder.answer = held  # type: ignore[method-assign]
    await responder.start()
    client = await nats.connect(nats_url)
    try:
        first = asyncio.ensure_future(ask(client, request_of("AAPL")))
        await asyncio.wait_for(entered.wait(), 5)
        second = asyncio.ensure_future(ask(client, request_of("MSFT")))
        await client.flush()
        subscription = responder._subscription
        assert subscription is not None
        await eventually(lambda: subscription.pending_msgs == 1)  # received, waiting
        stopping = asyncio.ensure_future(responder.stop())
        await asyncio.sleep(0.1)
        assert not stopping.done()  # it waits for the batch in hand
        gate.set()
        await asyncio.wait_for(stopping, 5)
        replies = [MlPredictReply.model_validate_json((await f).data) for f in (first, second)]
        with pytest.raises(nats.errors.NoRespondersError):
            await ask(client, request_of("IBM"))  # no longer subscribed
    finally:
        await client.drain()
        await broker.stop()

    assert [r.predictions[0].signal_id for r in replies] == [
        candidate("AAPL").id,
        candidate("MSFT").id,
    ]
