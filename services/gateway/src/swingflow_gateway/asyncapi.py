"""The AsyncAPI 3.0 document of swingflow's NATS subjects, built from `subjects` and the messages.

Another program can read the platform's events straight from NATS with this document
alone: each channel's address is the subject (with `{symbol}` / `{service}` for the
wildcard token), each message's payload is the pydantic model's JSON Schema, and the
description says which JetStream stream keeps it (or that it is core NATS only).
Served at `/asyncapi.json`, with a one-page summary at `/asyncapi`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from swingflow_common import messages as m
from swingflow_common import subjects
from swingflow_common.bus import stream_for

REF = "#/components/schemas/{model}"
WILDCARD_NAMES = {"*": "symbol", ">": "service"}


@dataclass(frozen=True)
class ChannelDoc:
    id: str
    pattern: str
    messages: tuple[type[m.Message], ...]
    action: Literal["send", "receive"]  # from the platform's point of view
    description: str
    reply: type[m.Message] | None = None
    queue: str | None = None


CHANNELS: tuple[ChannelDoc, ...] = (
    ChannelDoc("bars", subjects.BARS_ALL, (m.Bar,), "receive",
               "OHLCV bars, ts = the bar's open time in UTC. Publish here to feed the platform."),
    ChannelDoc("ticks", subjects.TICKS_ALL, (m.Tick,), "receive",
               "Trades (price, size, time); the scanner builds daily bars from them."),
    ChannelDoc("candidates", subjects.CANDIDATES_ALL, (m.CandidateSignal,), "send",
               "Setups the scanner found on a closed bar, with the feature snapshot."),
    ChannelDoc("confirmed", subjects.CONFIRMED_ALL, (m.ConfirmedSignal,), "send",
               "Signals that passed every stage and the threshold, with levels and scores."),
    ChannelDoc("allocations", subjects.ALLOCATIONS, (m.Allocation,), "send",
               "The portfolio's risk-sized decisions to buy a confirmed signal."),
    ChannelDoc("fills", subjects.FILLS, (m.Fill,), "send", "Paper-trading fills, with costs."),
    ChannelDoc("mlPredict", subjects.ML_PREDICT, (m.MlPredictRequest,), "send",
               "Request/reply: candidates in, calibrated probabilities out.",
               reply=m.MlPredictReply),
    ChannelDoc("modelsUpdated", subjects.ML_MODELS_UPDATED, (m.ModelUpdated,), "send",
               "A new ML model was trained and promoted."),
    ChannelDoc("weightsUpdated", subjects.CONFIG_WEIGHTS_UPDATED, (m.WeightsUpdated,), "send",
               "New integration weights; the signals service reloads them live."),
    ChannelDoc("scanJobs", subjects.SCAN_JOBS, (m.ScanJob,), "send",
               "Batches of symbols to scan, shared by the scanner replicas.",
               queue=subjects.SCANNER_QUEUE),
    ChannelDoc("deadLetters", subjects.DLQ_ALL, (m.DeadLetter,), "send",
               "Messages a service rejected, with the reason."),
    ChannelDoc("jobsProgress", subjects.JOBS_PROGRESS, (m.JobProgress,), "send",
               "Progress of the gateway's background jobs (backtest, train, optimize); "
               "the same messages reach WebSocket clients on the channel `jobs`."),
)  # fmt: skip


def address(pattern: str) -> tuple[str, dict[str, Any]]:
    """The AsyncAPI address of a subject pattern and its parameters (`md.bars.{symbol}`)."""
    tokens, parameters = [], {}
    for token in pattern.split("."):
        name = WILDCARD_NAMES.get(token)
        if name is None:
            tokens.append(token)
            continue
        tokens.append("{" + name + "}")
        what = "upper-case symbol, '.' written '_'" if name == "symbol" else "service name"
        parameters[name] = {"description": f"The {what}."}
    return ".".join(tokens), parameters


def _transport(pattern: str) -> str:
    concrete = pattern.replace("*", "X").replace(">", "X")
    try:
        return f"JetStream stream {stream_for(concrete)}"
    except KeyError:
        return "core NATS (not stored)"


def _schemas(models: list[type[m.Message]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _message(model: type[m.Message]) -> dict[str, Any]:
    kind = model.model_fields["type"].default
    return {
        "name": kind,
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else kind,
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=model.__name__)},
    }


def build_document(nats_url: str, version: str = "0.1.0") -> dict[str, Any]:
    """The whole AsyncAPI 3.0 document (plain JSON-ready dicts)."""
    first = urlsplit(nats_url.split(",")[0])
    host = f"{first.hostname or '127.0.0.1'}:{first.port or 4222}"  # never the credentials
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    models: list[type[m.Message]] = []
    for doc in CHANNELS:
        addr, parameters = address(doc.pattern)
        carried = [*doc.messages, *((doc.reply,) if doc.reply else ())]
        models += carried
        channel: dict[str, Any] = {
            "address": addr,
            "description": f"{doc.description} Transport: {_transport(doc.pattern)}.",
            "messages": {
                t.__name__: {"$ref": f"#/components/messages/{t.__name__}"} for t in carried
            },
        }
        if parameters:
            channel["parameters"] = parameters
        channels[doc.id] = channel
        operation: dict[str, Any] = {
            "action": doc.action,
            "channel": {"$ref": f"#/channels/{doc.id}"},
            "messages": [
                {"$ref": f"#/channels/{doc.id}/messages/{t.__name__}"} for t in doc.messages
            ],
        }
        if doc.reply is not None:
            operation["reply"] = {
                "channel": {"$ref": f"#/channels/{doc.id}"},
                "messages": [{"$ref": f"#/channels/{doc.id}/messages/{doc.reply.__name__}"}],
            }
        if doc.queue is not None:
            operation["bindings"] = {"nats": {"queue": doc.queue}}
        operations[f"{doc.action}{doc.id[0].upper()}{doc.id[1:]}"] = operation
    unique = list(dict.fromkeys(models))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "swingflow events",
            "version": version,
            "description": (
                "The NATS subjects of the swingflow platform. Every message is JSON with a "
                "`type` discriminator and a `schema_version`. Messages stored in JetStream "
                "carry a `Nats-Msg-Id` header (`<type>:<id>`) so a republish is dropped. "
                f"Key-value buckets: `{subjects.ANALYSIS_BUCKET}` (latest analysis per "
                f"symbol) and `{subjects.WEIGHTS_BUCKET}` (key `current`: a WeightsUpdated)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"nats": {"host": host, "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {t.__name__: _message(t) for t in unique},
            "schemas": _schemas(unique),
        },
    }


def render_html(document: dict[str, Any]) -> str:
    """A plain page listing each channel's subject, direction and messages."""
    rows = []
    for cid, channel in document["channels"].items():
        names = ", ".join(channel["messages"])
        op = next(o for o in document["operations"].values() if o["channel"]["$ref"].endswith(cid))
        rows.append(
            f"<tr><td><code>{html.escape(channel['address'])}</code></td>"
            f"<td>{html.escape(op['action'])}</td><td>{html.escape(names)}</td>"
            f"<td>{html.escape(channel['description'])}</td></tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>swingflow AsyncAPI</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;"
        "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(document['info']['title'])}</h1>"
        f"<p>{html.escape(document['info']['description'])}</p>"
        "<p>The full document, with every message's JSON Schema: "
        "<a href='/asyncapi.json'>/asyncapi.json</a> (AsyncAPI 3.0).</p>"
        "<table><tr><th>subject</th><th>platform</th><th>messages</th><th>what</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


router = APIRouter(tags=["asyncapi"])


@router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi_json(request: Request) -> JSONResponse:
    """The AsyncAPI 3.0 document of the NATS subjects and message schemas."""
    return JSONResponse(request.app.state.asyncapi)


@router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_html(request: Request) -> HTMLResponse:
    """A one-page summary of the AsyncAPI document."""
    return HTMLResponse(render_html(request.app.state.asyncapi))
