"""The ml service with a real model, on a real nats-server and database: it answers with
the promoted model from the start, loads an announced model without a restart, refuses a
file whose hash does not match, and scores a batch with probabilities and contributions."""

from __future__ import annotations

from pathlib import Path

import nats
import numpy as np
import pytest
from faststream.nats import TestApp
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.messages import MlPredictReply, MlPredictRequest, ModelUpdated
from swingflow_common.ml import registry
from swingflow_common.ml.rows import feature_rows
from swingflow_common.testing import eventually
from swingflow_ml.app import build_app
from swingflow_ml.settings import Settings

from .models import candidate, registered, tiny_model

LOW, HIGH = candidate("AAA", 500, 25.0), candidate("BBB", 500, 75.0)


async def ask(client: Client) -> MlPredictReply:
    payload = MlPredictRequest(candidates=(LOW, HIGH)).model_dump_json().encode()
    answer = await client.request(subjects.ML_PREDICT, payload, timeout=5)
    return MlPredictReply.model_validate_json(answer.data)


async def ask_rows(client: Client) -> MlPredictReply:
    """The same candidates as `ask`, as the signals service sends them: feature rows."""
    from .models import CONFIG

    payload = MlPredictRequest(rows=feature_rows((LOW, HIGH), CONFIG)).model_dump_json().encode()
    answer = await client.request(subjects.ML_PREDICT, payload, timeout=5)
    return MlPredictReply.model_validate_json(answer.data)


def refused() -> float:
    return (
        REGISTRY.get_sample_value("swingflow_ml_model_updates_total", {"outcome": "refused"}) or 0.0
    )


def scored(neutral: bool) -> float:
    labels = {"neutral": str(neutral).lower()}
    return REGISTRY.get_sample_value("swingflow_ml_predictions_total", labels) or 0.0


async def test_the_promoted_model_answers_from_the_start(
    js: JetStreamContext, nats_url: str, database_url: str,
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:  # fmt: skip
    await registered(db_sessions, tmp_path, "m-old", promote=False)
    row = await registered(db_sessions, tmp_path, "m-promoted", promote=True)
    settings = Settings(nats_url=nats_url, database_url=database_url)
    scored_before = scored(neutral=False)
    async with TestApp(build_app(settings)):
        client = await nats.connect(nats_url)
        reply = await ask(client)
        rows = await ask_rows(client)
        await client.drain()

    assert rows.rows is not None  # the compact request is answered in columns ...
    assert rows.all_predictions() == reply.predictions  # ... with the same predictions
    assert rows.model_version == reply.model_version
    assert reply.model_version == row.version == "m-promoted"
    assert scored(neutral=False) == scored_before + 4  # counted without the reply objects
    low, high = reply.predictions
    assert (low.signal_id, high.signal_id) == (LOW.id, HIGH.id)
    assert not low.neutral
    assert not high.neutral
    assert high.probability > 0.6 > 0.4 > low.probability  # rsi_14 decided the labels
    assert len(high.contributions) == 5
    top = high.contributions[0]
    assert (top.feature, top.value) == ("rsi_14", 75.0)
    assert top.contribution > 0
    assert low.contributions[0].contribution < 0


async def test_an_announced_model_is_loaded_without_a_restart_and_a_bad_one_refused(
    js: JetStreamContext, nats_url: str, db_sessions: async_sessionmaker[AsyncSession],
    database_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    settings = Settings(nats_url=nats_url, database_url=database_url)
    async with TestApp(build_app(settings)):
        client = await nats.connect(nats_url)
        before = await ask(client)
        neutral_rows = await ask_rows(client)
        row = await registered(db_sessions, tmp_path, "m-new", promote=True)
        bad = registry.model_updated(row).model_copy(update={"sha256": "0" * 64})
        refused_before = refused()
        await client.publish(subjects.ML_MODELS_UPDATED, bad.model_dump_json().encode())
        await eventually(lambda: refused() == refused_before + 1)
        still = await ask(client)
        update = registry.model_updated(row)
        await client.publish(subjects.ML_MODELS_UPDATED, update.model_dump_json().encode())

        async def answered_by_new() -> bool:
            return (await ask(client)).model_version == "m-new"

        await eventually(answered_by_new)
        after = await ask(client)
        await client.drain()

    assert before.model_version is None
    assert all(p.neutral and p.probability == 0.5 for p in before.predictions)
    assert neutral_rows.model_version is None
    assert neutral_rows.rows is not None
    assert neutral_rows.rows.neutral
    assert neutral_rows.all_predictions() == before.predictions
    assert still.model_version is None  # the file did not match: refused, still neutral
    assert isinstance(update, ModelUpdated)
    assert not any(p.neutral for p in after.predictions)
    assert after.predictions[1].probability > after.predictions[0].probability


def test_a_batch_is_scored_at_once_in_the_order_given() -> None:
    from swingflow_common.ml.scorer import ModelScorer

    from .models import CONFIG

    batch = [candidate("S", 600 + i, float(i % 60 + 20)) for i in range(1000)]
    reply = ModelScorer(tiny_model(), CONFIG).predict(batch)
    assert [p.signal_id for p in reply.predictions] == [c.id for c in batch]
    again = MlPredictReply.model_validate_json(reply.model_dump_json())  # valid on the wire
    assert again == reply
    assert all(len(p.contributions) == 5 for p in again.predictions)


def test_the_json_answer_is_the_reply_objects_bytes() -> None:
    """`predict_json` (what the service sends) is `predict(...).model_dump_json()` byte for
    byte, and decodes to the same valid reply; unknown feature values (None) included."""
    from swingflow_common.ml.scorer import ModelScorer

    from .models import CONFIG

    batch = [candidate("S", 600 + i, float(i % 60 + 20)) for i in range(300)]
    batch[::7] = [
        c.model_copy(update={"features": {**c.features, "rsi_14": None, "adx_14": None}})
        for c in batch[::7]
    ]
    scorer = ModelScorer(tiny_model(), CONFIG)
    objects = scorer.predict(batch)
    answered = scorer.predict_json(batch)
    assert answered == objects.model_dump_json().encode()
    assert MlPredictReply.model_validate_json(answered) == objects
    assert any(c.value is None for p in objects.predictions for c in p.contributions)
    assert scorer.predict_json([]) == scorer.predict([]).model_dump_json().encode()


def test_a_non_finite_score_takes_the_validated_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probability the reply cannot carry is refused by the bytes path as by `predict`."""
    from swingflow_common.ml.scorer import ModelScorer

    from .models import CONFIG

    scorer = ModelScorer(tiny_model(), CONFIG)
    width = len(scorer.model.names) + 1
    monkeypatch.setattr(
        type(scorer.model),
        "score",
        lambda self, x: (np.full(len(x), np.nan), np.zeros((len(x), width))),
    )
    monkeypatch.setattr(
        type(scorer.model), "probabilities", lambda self, x: np.full(len(x), np.nan)
    )
    batch = [candidate("S", 600, 50.0)]
    with pytest.raises(ValidationError, match="probability"):
        scorer.predict(batch)
    with pytest.raises(ValidationError, match="probability"):
        scorer.predict_json(batch)


def test_batches_scored_together_get_the_bytes_each_would_get_alone() -> None:
    """Batches of other sizes, an empty one, other setups and unknown values: scoring
    them together changes no byte of any reply."""
    from swingflow_common.ml.scorer import ModelScorer

    from .models import CONFIG

    setups = ("trend_pullback", "breakout_volume", "rsi_mean_reversion")
    every = [candidate(f"S{i % 7}", 600 + i, float(i % 60 + 20), setups[i % 3]) for i in range(200)]
    every[5::9] = [
        c.model_copy(update={"features": {**c.features, "sma_200": None}}) for c in every[5::9]
    ]
    batches = [every[:64], [], every[64:65], every[65:200]]
    scorer = ModelScorer(tiny_model(), CONFIG)
    requests = [MlPredictRequest(candidates=tuple(batch)) for batch in batches]
    together = scorer.predict_json_many(requests)
    assert together == [scorer.predict_json(batch) for batch in batches]
    assert together == [scorer.predict(b).model_dump_json().encode() for b in batches]
    assert scorer.predict_json_many([]) == []


def test_feature_rows_get_the_predictions_their_candidates_get() -> None:
    """The compact request (the candidates' feature rows, computed by the sender) is
    answered in columns with the very predictions the whole candidates get, alone or
    mixed with requests of candidates; a feature the rows lack counts as unknown, as in
    a snapshot. The columns' bytes are the reply objects' bytes."""
    from swingflow_common.ml.rows import feature_rows
    from swingflow_common.ml.scorer import ModelScorer

    from .models import CONFIG

    setups = ("trend_pullback", "breakout_volume", "rsi_mean_reversion")
    every = [candidate(f"S{i % 7}", 600 + i, float(i % 60 + 20), setups[i % 3]) for i in range(130)]
    every[3::5] = [
        c.model_copy(update={"features": {**c.features, "rsi_14": None}}) for c in every[3::5]
    ]
    lacking = [
        c.model_copy(update={"features": {k: v for k, v in c.features.items() if k != "adx_14"}})
        for c in every[:20]
    ]
    batches = [every[:64], every[64:], lacking]
    scorer = ModelScorer(tiny_model(), CONFIG)
    rows = [MlPredictRequest(rows=feature_rows(batch, CONFIG)) for batch in batches]
    wire = [MlPredictRequest.model_validate_json(r.model_dump_json()) for r in rows]
    assert "adx_14" not in wire[2].rows.names  # type: ignore[union-attr]
    expected = [scorer.predict(batch) for batch in batches]
    answers = scorer.predict_json_many(wire)
    replies = [MlPredictReply.model_validate_json(a) for a in answers]
    assert [r.model_dump_json().encode() for r in replies] == answers
    assert all(r.rows is not None and not r.predictions for r in replies)
    assert [r.all_predictions() for r in replies] == [e.predictions for e in expected]
    assert {r.model_version for r in replies} == {e.model_version for e in expected}
    whole = MlPredictRequest(candidates=tuple(batches[1]))
    mixed = scorer.predict_json_many([wire[0], whole, wire[2]])
    assert mixed == [answers[0], expected[1].model_dump_json().encode(), answers[2]]
