"""`GET/PUT /api/weights`: the token guards writes; a write reaches the file, the KV, NATS."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import nats
import pytest
from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.config import load_config
from swingflow_common.messages import WeightsUpdated
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .helpers import TOKEN, serve

pytestmark = pytest.mark.integration

NEW = {"base_signal": 0.4, "confirmation": 0.3, "ml_confidence": 0.1, "entry_timing": 0.2}


async def ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_put_weights_needs_the_right_token(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any
) -> None:
    settings = make_settings(database_url, nats_url)
    before = settings.swingflow_config.read_text()
    async with serve(create_app(settings, warm_up=False)) as client:
        await eventually(lambda: ready(client))
        missing = await client.put("/api/weights", json={"weights": NEW})
        wrong = await client.put("/api/weights", json={"weights": NEW}, headers=bearer("nope"))
        basic = await client.put(
            "/api/weights", json={"weights": NEW}, headers={"Authorization": f"Basic {TOKEN}"}
        )
    for answer in (missing, wrong, basic):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" in wrong.headers["WWW-Authenticate"]
    assert settings.swingflow_config.read_text() == before


async def test_put_weights_saves_them_and_tells_every_service(
    database_url: str,
    nats_url: str,
    js: JetStreamContext,
    make_settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(database_url, nats_url)
    listener = await nats.connect(nats_url)
    heard: list[WeightsUpdated] = []

    async def on_update(msg: Any) -> None:
        heard.append(WeightsUpdated.model_validate_json(msg.data))

    await listener.subscribe(subjects.CONFIG_WEIGHTS_UPDATED, cb=on_update)
    caplog.set_level(logging.DEBUG)
    try:
        async with serve(create_app(settings, warm_up=False)) as client:
            await eventually(lambda: ready(client))
            answer = await client.put(
                "/api/weights",
                json={"weights": NEW, "confirm_threshold": 0.55},
                headers=bearer(TOKEN),
            )
            assert answer.status_code == 200
            await eventually(lambda: len(heard) == 1)
            read_back = (await client.get("/api/weights")).json()
    finally:
        await listener.drain()
    assert answer.json()["weights"] == NEW
    assert answer.json()["confirm_threshold"] == 0.55
    assert answer.json()["stage_minimums"]["confirmation"] == 0.4
    assert (heard[0].weights, heard[0].confirm_threshold, heard[0].source) == (NEW, 0.55, "api")
    kv = await js.key_value(subjects.WEIGHTS_BUCKET)
    stored = WeightsUpdated.model_validate_json((await kv.get("current")).value or b"")
    assert stored.weights == NEW
    config = load_config(settings.swingflow_config)
    assert config.weights.as_dict() == NEW
    assert config.confirm_threshold == 0.55
    assert json.loads(settings.swingflow_config.read_text())["risk"]["initial_cash"] == 100000
    assert read_back == answer.json()
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"weights": {**NEW, "base_signal": 0.5}}, "sum to 1"),
        ({"weights": {k: v for k, v in NEW.items() if k != "entry_timing"}}, "entry_timing"),
        ({"weights": {**NEW, "momentum": 0.0}}, "momentum"),
        ({"weights": {**NEW, "base_signal": -0.1}}, "base_signal"),
        ({"weights": NEW, "confirm_threshold": 2}, "confirm_threshold"),
        ({"weights": "heavy"}, "weights"),
    ],
)
async def test_put_weights_refuses_bad_values_naming_the_field(
    database_url: str,
    nats_url: str,
    js: JetStreamContext,
    make_settings: Any,
    body: dict[str, Any],
    named: str,
) -> None:
    settings = make_settings(database_url, nats_url)
    before = settings.swingflow_config.read_text()
    async with serve(create_app(settings, warm_up=False)) as client:
        await eventually(lambda: ready(client))
        answer = await client.put("/api/weights", json=body, headers=bearer(TOKEN))
    assert answer.status_code == 422
    assert named in answer.json()["detail"]
    assert settings.swingflow_config.read_text() == before


async def test_writes_are_refused_when_no_token_is_configured(
    database_url: str, make_settings: Any
) -> None:
    settings = make_settings(database_url, api_token=None)
    async with serve(create_app(settings, warm_up=False)) as client:
        answer = await client.put("/api/weights", json={"weights": NEW}, headers=bearer("x"))
    assert answer.status_code == 503
    assert "SWINGFLOW_API_TOKEN" in answer.json()["detail"]


async def test_put_weights_changes_nothing_while_nats_is_down(
    database_url: str, make_settings: Any
) -> None:
    settings = make_settings(database_url)  # NATS at a closed port
    before = settings.swingflow_config.read_text()
    async with serve(create_app(settings, warm_up=False)) as client:
        answer = await client.put("/api/weights", json={"weights": NEW}, headers=bearer(TOKEN))
        current = (await client.get("/api/weights")).json()
    assert answer.status_code == 503
    assert "nothing was changed" in answer.json()["detail"]
    assert settings.swingflow_config.read_text() == before
    assert current["weights"]["base_signal"] == 0.3


async def test_get_weights_prefers_the_live_kv_value(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any
) -> None:
    settings = make_settings(database_url, nats_url)
    async with serve(create_app(settings, warm_up=False)) as client:
        await eventually(lambda: ready(client))
        kv = await js.key_value(subjects.WEIGHTS_BUCKET)
        live = WeightsUpdated(weights=NEW, confirm_threshold=0.7, source="optimizer")
        await kv.put("current", live.model_dump_json().encode())
        body = (await client.get("/api/weights")).json()
    assert (body["weights"], body["confirm_threshold"]) == (NEW, 0.7)
