"""The signals service on a real nats-server and database: candidates in with plain nats-py,
every verdict stored with its stage scores, confirmed signals out exactly as the pure
pipeline gives them, ML answers or neutral stages that say why, duplicates judged once,
bad messages dead-lettered while the service goes on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nats
import pytest
from faststream.nats import TestApp
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from signals_helpers import TS, candidate, confirmed_on_nats, dead_letters, judged, weak
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.bus import PublishBatch, publish
from swingflow_common.config import load_config
from swingflow_common.db import engine_from_url, repository, session_factory
from swingflow_common.db.models import SignalRow
from swingflow_common.messages import (
    Bar,
    CandidateSignal,
    FeatureContribution,
    Message,
    MlPrediction,
    MlPredictReply,
    MlPredictRequest,
    StageScore,
)
from swingflow_common.ml.rows import rows_matrix
from swingflow_common.pipeline import Evaluation, MlOutcome, evaluate, neutral_ml_stage, score_batch
from swingflow_common.testing import eventually
from swingflow_signals import judge as judge_module
from swingflow_signals.app import build_service
from swingflow_signals.settings import Settings

Sessions = async_sessionmaker[AsyncSession]


def settings(nats_url: str, database_url: str, config_path: Path) -> Settings:
    return Settings(nats_url=nats_url, database_url=database_url, swingflow_config=config_path,
                    fetch_timeout=0.1)  # fmt: skip


def without_ml(c: CandidateSignal, config_path: Path, why: str) -> Evaluation:
    """What the pure pipeline gives when the ML stage is neutral for reason `why`."""
    config = load_config(config_path)
    stage = neutral_ml_stage(config).model_copy(update={"reason": f"{why}: neutral"})
    return evaluate(c, config, MlOutcome(stage))


async def count_judged(sessions: Sessions, n: int) -> bool:
    return len(await judged(sessions)) == n


async def count_confirmed(js: JetStreamContext, n: int) -> bool:
    return len(await confirmed_on_nats(js)) == n


def assert_stored_as(row: SignalRow, expected: Evaluation) -> None:
    assert (row.status, row.rejected_by) == (expected.status, expected.rejected_by)
    assert (row.total, row.weights) == (expected.total, expected.weights)
    assert [StageScore.model_validate(s) for s in row.stages] == list(expected.stages)


async def test_candidates_are_stored_with_their_verdicts_and_confirmed_like_the_pipeline(
    js: JetStreamContext, nats_url: str, database_url: str, config_path: Path
) -> None:
    cands = [candidate("AAPL"), candidate("MSFT", base=0.3), candidate("NVDA", features=weak())]
    expected = {c.id: without_ml(c, config_path, "no ml service is running") for c in cands}
    engine = engine_from_url(database_url)
    sessions = session_factory(engine)
    service = build_service(settings(nats_url, database_url, config_path))
    try:
        async with TestApp(service.app):
            for c in cands:
                await publish(js, subjects.candidates(c.symbol), c)
            await eventually(lambda: count_judged(sessions, 3))
            await eventually(lambda: count_confirmed(js, 1))
            rows = await judged(sessions)
            confirmed = await confirmed_on_nats(js)
    finally:
        await engine.dispose()

    assert {rows[c.id].rejected_by for c in cands} == {None, "base_signal", "confirmation"}
    for c in cands:
        assert_stored_as(rows[c.id], expected[c.id])
        assert rows[c.id].features == c.features
    assert confirmed == [expected[cands[0].id].signal]
    assert confirmed[0].stages[2].reason == "no ml service is running: neutral"
    assert confirmed[0].stages[2].neutral


async def test_with_an_ml_responder_the_ml_stage_is_its_answer(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    def reply_to(ids: Sequence[str]) -> MlPredictReply:
        contribution = FeatureContribution(feature="rsi_14", value=47.0, contribution=0.4)
        return MlPredictReply(model_version="stub-1", predictions=tuple(
            MlPrediction(signal_id=i, probability=0.9, neutral=False,
                         contributions=(contribution,)) for i in ids))  # fmt: skip

    class Stub:
        def predict(self, cands: Sequence[CandidateSignal]) -> MlPredictReply:
            return reply_to([c.id for c in cands])

    requests: list[MlPredictRequest] = []

    async def respond(msg: Msg) -> None:
        request = MlPredictRequest.model_validate_json(msg.data)
        requests.append(request)
        await msg.respond(reply_to(request.signal_ids).model_dump_json().encode())

    c = candidate("AAPL")
    config = load_config(config_path)
    expected = evaluate(c, config, score_batch([c], Stub(), config)[0])
    client = await nats.connect(nats_url)
    await client.subscribe(subjects.ML_PREDICT, queue="ml", cb=respond)
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await publish(js, subjects.candidates("AAPL"), c)
        await eventually(lambda: count_confirmed(js, 1))
        (signal,) = await confirmed_on_nats(js)
        row = (await judged(sqlite_sessions))[c.id]
    await client.drain()

    assert signal == expected.signal
    assert (signal.model_version, signal.stages[2].score, signal.stages[2].neutral) == (
        "stub-1", 0.9, False)  # fmt: skip
    assert signal.ml_contributions[0].feature == "rsi_14"
    assert (row.score_ml_confidence, row.model_version) == (0.9, "stub-1")
    # the request carried the candidate's feature rows, not the candidate
    (request,) = requests
    assert request.rows is not None
    assert not request.candidates
    assert request.rows.signal_ids == (c.id,)
    sent = rows_matrix(request.rows, ("rsi_14", "stage_base"))
    assert sent.tolist() == [[c.features["rsi_14"], c.base.score]]


async def test_a_silent_ml_service_leaves_the_stage_neutral_and_says_so(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    async def never_answer(msg: Msg) -> None:
        return None

    client = await nats.connect(nats_url)
    await client.subscribe(subjects.ML_PREDICT, queue="ml", cb=never_answer)
    c = candidate("AAPL")
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await publish(js, subjects.candidates("AAPL"), c)
        await eventually(lambda: count_judged(sqlite_sessions, 1))
        row = (await judged(sqlite_sessions))[c.id]
    await client.drain()

    why = "the ml service did not answer within 250 ms"
    assert_stored_as(row, without_ml(c, config_path, why))
    assert row.stages[2]["reason"] == f"{why}: neutral"


async def test_a_republished_candidate_is_judged_and_confirmed_once(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    c = candidate("AAPL")
    payload = c.model_dump_json().encode()

    async def both_acked() -> bool:
        info = await js.consumer_info("SIGNALS", "signals-candidates")
        acked = info.ack_floor.consumer_seq if info.ack_floor else 0
        return bool(acked >= 2 and info.num_ack_pending == 0)

    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await js.publish(subjects.candidates("AAPL"), payload)  # no Nats-Msg-Id: stored twice
        await eventually(lambda: count_confirmed(js, 1))
        await js.publish(subjects.candidates("AAPL"), payload)
        await eventually(both_acked)
        confirmed = await confirmed_on_nats(js)

    async with sqlite_sessions() as session:
        assert await repository.count_signals(session) == 1
    assert len(confirmed) == 1


def redelivered(client: Client, c: CandidateSignal, delivery: int) -> Msg:
    """The candidate as JetStream delivers it for the `delivery`-th time."""
    reply = f"$JS.ACK.SIGNALS.signals-candidates.{delivery}.1.1.1709251200000000000.0"
    return Msg(_client=client, subject=subjects.candidates(c.symbol), reply=reply,
               data=c.model_dump_json().encode())  # fmt: skip


async def test_a_redelivery_announces_a_stored_confirmation_the_crash_left_unpublished(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    c = candidate("AAPL")
    expected = without_ml(c, config_path, "no ml service is running")
    async with sqlite_sessions.begin() as session:  # committed, then the process died
        await repository.save_evaluation(session, expected)
    service = build_service(settings(nats_url, sqlite_url, config_path))
    duplicates = 'swingflow_published_messages_total{stream="SIGNALS",duplicate="true"}'
    client = await nats.connect(nats_url)
    async with TestApp(service.app):
        assert await service.judge.judge([(redelivered(client, c, 1), c)]) == []
        assert await confirmed_on_nats(js) == []  # a first delivery of an old one: no news

        assert await service.judge.judge([(redelivered(client, c, 2), c)]) == []
        assert await confirmed_on_nats(js) == [expected.signal]

        before = _sample(duplicates)
        await service.judge.judge([(redelivered(client, c, 3), c)])
        assert await confirmed_on_nats(js) == [expected.signal]  # the server dropped it
        assert _sample(duplicates) == before + 1
    await client.drain()


async def test_a_confirmation_left_unpublished_by_a_failed_batch_is_published_by_its_retry(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The batch commits its verdict, then cannot publish (NATS timed out): judged again
    one by one, the stored confirmation is announced, not acked away unpublished."""
    failures = [1]

    class FailingOnce(PublishBatch):
        async def add(self, subject: str, message: Message) -> None:
            if failures[0]:
                failures[0] -= 1
                raise TimeoutError("nats: timeout")
            await super().add(subject, message)

    monkeypatch.setattr(judge_module, "PublishBatch", FailingOnce)
    c = candidate("AAPL")
    expected = without_ml(c, config_path, "no ml service is running")
    assert expected.signal is not None
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await publish(js, subjects.candidates("AAPL"), c)
        await eventually(lambda: count_confirmed(js, 1))
    assert failures == [0]
    assert await confirmed_on_nats(js) == [expected.signal]
    stored = await judged(sqlite_sessions)
    assert list(stored) == [c.id]
    assert_stored_as(stored[c.id], expected)


def _sample(series: str) -> float:
    name, _, labels = series.partition("{")
    pairs = dict(p.split("=") for p in labels.rstrip("}").split(","))
    return REGISTRY.get_sample_value(name, {k: v.strip('"') for k, v in pairs.items()}) or 0.0


async def test_bad_messages_are_dead_lettered_and_the_service_goes_on(
    js: JetStreamContext, nats_url: str, sqlite_url: str, sqlite_sessions: Sessions,
    config_path: Path,
) -> None:  # fmt: skip
    bar = Bar(symbol="MSFT", ts=TS, open=10, high=11, low=9, close=10, volume=5)
    c = candidate("AAPL")
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await js.publish(subjects.candidates("AAPL"), b"{not json")
        await js.publish(subjects.candidates("MSFT"), bar.model_dump_json().encode())
        await publish(js, subjects.candidates("AAPL"), c)
        await eventually(lambda: count_judged(sqlite_sessions, 1))
        letters = await dead_letters(js, "signals")

    assert [letter.subject for letter in letters] == [subjects.candidates("AAPL"),
                                                      subjects.candidates("MSFT")]  # fmt: skip
    assert "json" in letters[0].reason.lower()
    assert "expected a CandidateSignal" in letters[1].reason
    assert letters[0].payload == "{not json"
