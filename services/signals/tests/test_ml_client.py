"""The ML stage over a real NATS: what the signals service sends, and when it skips the
feature rows because the ml service has no model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from faststream.nats import TestApp
from nats.aio.client import Client
from nats.aio.msg import Msg
from signals_helpers import candidate

from swingflow_common import subjects
from swingflow_common.config import load_config
from swingflow_common.messages import MlPredictReply, MlPredictRequest, PredictionRows
from swingflow_common.ml.rows import rows_matrix
from swingflow_common.testing import eventually
from swingflow_signals.app import build_service
from swingflow_signals.ml_client import MlClient
from swingflow_signals.settings import Settings


class Responder:
    """An ml service stand-in: neutral until `version` is set, then 0.8 for everyone."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.requests: list[MlPredictRequest] = []

    async def respond(self, msg: Msg) -> None:
        request = MlPredictRequest.model_validate_json(msg.data)
        self.requests.append(request)
        ids = request.signal_ids
        if self.version is None:
            rows = PredictionRows(signal_ids=ids, neutral=True, probabilities=(0.5,) * len(ids))
        else:
            rows = PredictionRows(
                signal_ids=ids, neutral=False, probabilities=(0.8,) * len(ids),
                features=("rsi_14",), top=((0,),) * len(ids), values=((47.0,),) * len(ids),
                contributions=((0.3,),) * len(ids),
            )  # fmt: skip
        await msg.respond(
            MlPredictReply(model_version=self.version, rows=rows).model_dump_json().encode()
        )


@pytest.fixture
async def client(nats_url: str) -> AsyncIterator[Client]:
    connection = await nats.connect(nats_url)
    yield connection
    await connection.drain()


@pytest.fixture
async def responder(client: Client) -> Responder:
    """The stand-in ml service, answering `ml.predict` on `client`."""
    found = Responder()
    await client.subscribe(subjects.ML_PREDICT, queue="ml", cb=found.respond)
    return found


async def test_without_a_model_a_batch_asks_with_an_empty_request_only(
    client: Client, responder: Responder, config_path: Path
) -> None:
    config = load_config(config_path)
    ml = MlClient(lambda: client, timeout=5.0, recheck=0.0)  # asks again every batch
    batch = [candidate("AAPL"), candidate("MSFT")]

    first = await ml.score(batch, config)  # nothing known yet: the whole batch is sent
    assert [r.size for r in responder.requests] == [2]
    sent = responder.requests[0].rows
    assert sent is not None
    assert rows_matrix(sent, ("rsi_14",)).ravel().tolist() == [47.0, 47.0]

    second = await ml.score(batch, config)  # no model: only the probe, no feature rows
    assert [r.size for r in responder.requests] == [2, 0]
    assert first == second
    assert all(o.stage.neutral and o.model_version is None for o in second)

    responder.version = "m-1"  # a model loaded: the probe says so, the batch follows
    third = await ml.score(batch, config)
    assert [r.size for r in responder.requests] == [2, 0, 0, 2]
    assert [(o.stage.score, o.model_version) for o in third] == [(0.8, "m-1")] * 2
    await ml.score(batch, config)  # with a model, no probe
    assert [r.size for r in responder.requests] == [2, 0, 0, 2, 2]


async def test_a_no_model_answer_is_trusted_for_recheck_seconds_or_until_a_model_is_promoted(
    client: Client, responder: Responder, config_path: Path
) -> None:
    config = load_config(config_path)
    now = [100.0]
    ml = MlClient(lambda: client, timeout=5.0, recheck=1.0, clock=lambda: now[0])
    batch = [candidate("AAPL")]

    await ml.score(batch, config)  # the whole batch: the answer says there is no model
    now[0] += 0.9
    (within,) = await ml.score(batch, config)  # trusted: nothing is asked
    assert [r.size for r in responder.requests] == [1]
    assert within.stage.neutral
    assert within.model_version is None

    now[0] += 0.2  # 1.1 s after the answer: a probe, which finds the new answer
    responder.version = "m-1"
    (after,) = await ml.score(batch, config)
    assert [r.size for r in responder.requests] == [1, 0, 1]
    assert (after.stage.score, after.model_version) == (0.8, "m-1")

    responder.version = None  # no model again; then one is promoted
    await ml.score(batch, config)
    ml.models_updated()
    await ml.score(batch, config)  # the ml service is still loading it: no model yet
    responder.version = "m-2"
    (promoted,) = await ml.score(batch, config)  # asked again at once, not after `recheck`
    assert [r.size for r in responder.requests] == [1, 0, 1, 1, 1, 0, 1]  # probe, batch
    assert promoted.model_version == "m-2"


async def test_without_an_ml_service_the_probe_says_why(client: Client, config_path: Path) -> None:
    config = load_config(config_path)
    ml = MlClient(lambda: client, timeout=5.0)
    ml.model_seen = False
    (outcome,) = await ml.score([candidate("AAPL")], config)
    assert outcome.stage.neutral
    assert outcome.stage.reason == "no ml service is running: neutral"


async def test_the_service_asks_again_as_soon_as_a_model_is_promoted(
    client: Client, nats_url: str, sqlite_url: str, config_path: Path
) -> None:
    settings = Settings(nats_url=nats_url, database_url=sqlite_url, swingflow_config=config_path,
                        ml_recheck_s=3_600)  # fmt: skip
    service = build_service(settings)
    async with TestApp(service.app):
        ml = service.judge.ml
        ml.model_seen, ml.no_model_at = False, ml.clock()  # as after a "no model" answer
        assert ml._trust_no_model()
        await client.publish(subjects.ML_MODELS_UPDATED, b'{"version": "m-1"}')
        await eventually(lambda: ml.model_seen)
    assert not ml._trust_no_model()
