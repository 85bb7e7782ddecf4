"""Health, readiness, metrics, the dashboard's static files, the AsyncAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swingflow_common import subjects
from swingflow_common.messages import ALL_MESSAGES
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .helpers import serve

pytestmark = pytest.mark.integration


async def test_readyz_is_503_naming_nats_while_it_is_down(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.json() == {"status": "degraded", "checks": {"nats": False, "database": True}}


async def test_readyz_and_the_ready_gauge_once_nats_is_up(
    database_url: str, nats_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url, nats_url), warm_up=False)) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        body = (await client.get("/readyz")).json()
        metrics = (await client.get("/metrics")).text
    assert body == {"status": "ok", "checks": {"nats": True, "database": True}}
    assert 'swingflow_service_ready{service="gateway"} 1.0' in metrics
    assert "swingflow_gateway_ws_clients" in metrics
    assert 'swingflow_gateway_http_request_duration_seconds_count{method="GET",route="/readyz"' in (
        metrics
    )


def make_dist(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>swingflow dashboard</html>")
    (dist / "assets" / "app-1234.js").write_text("console.log('app')")
    (root / "secret.txt").write_text("not for the web")
    return dist


async def test_dashboard_files_and_spa_fallback(
    database_url: str, make_settings: Any, tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "web")
    app = create_app(make_settings(database_url, static_dir=dist), warm_up=False)
    async with serve(app) as client:
        index = await client.get("/")
        deep = await client.get("/symbol/AAPL")
        asset = await client.get("/assets/app-1234.js")
        escape = await client.get("/assets/..%2F..%2Fsecret.txt")
        api = await client.get("/api/nothing-here")
    assert "swingflow dashboard" in index.text
    assert "swingflow dashboard" in deep.text
    assert asset.text == "console.log('app')"
    assert "immutable" in asset.headers["cache-control"]
    assert "not for the web" not in escape.text
    assert (api.status_code, api.json()) == (404, {"detail": "Not Found"})


async def test_placeholder_page_when_the_dashboard_is_not_built(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        page = await client.get("/signals")
    assert page.status_code == 200
    assert "dashboard not built; run make setup" in page.text


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


async def test_asyncapi_document_covers_the_subjects_and_resolves(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        document = (await client.get("/asyncapi.json")).json()
        page = (await client.get("/asyncapi")).text
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert {"md.bars.{symbol}", "signals.confirmed.{symbol}", "dlq.{service}"} <= addresses
    for subject in (subjects.ALLOCATIONS, subjects.FILLS, subjects.ML_PREDICT,
                    subjects.ML_MODELS_UPDATED, subjects.CONFIG_WEIGHTS_UPDATED,
                    subjects.SCAN_JOBS):  # fmt: skip
        assert subject in addresses
    for ref in refs(document):
        assert resolve(document, ref) is not None, ref
    schemas = document["components"]["schemas"]
    for model in ALL_MESSAGES:
        if model.__name__ in document["components"]["messages"]:
            assert schemas[model.__name__]["properties"].keys() == model.model_fields.keys()
    assert "md.bars.{symbol}" in page
    assert "JetStream stream MARKET" in page


async def test_openapi_documents_every_route_with_a_response_model(
    database_url: str, make_settings: Any
) -> None:
    app = create_app(make_settings(database_url), warm_up=False)
    async with serve(app) as client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert docs.status_code == 200
    for path in ("/api/symbols", "/api/symbol/{symbol}/analysis", "/api/signals",
                 "/api/signals/funnel", "/api/portfolio", "/api/allocations", "/api/weights",
                 "/healthz", "/readyz"):  # fmt: skip
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert "$ref" in ok["schema"] or ok["schema"].get("type"), path
    assert "HTTPBearer" in str(spec["paths"]["/api/weights"]["put"]["security"])


async def test_a_wrong_method_is_405_listing_every_allowed_one(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        weights = await client.delete("/api/weights")
        symbols = await client.post("/api/symbols")
    assert (weights.status_code, weights.headers["allow"]) == (405, "GET, PUT")
    assert (symbols.status_code, symbols.headers["allow"]) == (405, "GET")
