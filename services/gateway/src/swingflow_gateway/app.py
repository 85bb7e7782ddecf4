"""The gateway's composition root: settings -> resources -> routers -> FastAPI app.

`create_app(settings)` builds the app (tests call it); `main()` is what
`swingflow service gateway` and its container run: it reads the environment, refuses an
open address without a token, serves `/metrics` on `GATEWAY_METRICS_PORT` too when set
(for `swingflow up`), and runs uvicorn in the foreground until SIGINT or SIGTERM.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from swingflow_common.observability import configure_logging, start_metrics_server
from swingflow_common.settings import SettingsError, load_settings
from swingflow_gateway import asyncapi, static
from swingflow_gateway.errors import method_not_allowed, validation_error
from swingflow_gateway.http_metrics import HttpMetrics
from swingflow_gateway.metrics import SERVICE
from swingflow_gateway.resources import open_resources
from swingflow_gateway.routers import (
    backtest,
    health,
    jobs,
    ml,
    portfolio,
    signals,
    symbols,
    weights,
)
from swingflow_gateway.settings import Settings, check_bind
from swingflow_gateway.ws import endpoint

VERSION = "0.1.0"
WS_MAX_SIZE = 1 << 20  # bytes a client frame may have; the connection itself allows 64 KiB


def create_app(settings: Settings, warm_up: bool = True) -> FastAPI:
    """The FastAPI app; raises SettingsError for an open address without a token."""
    check_bind(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, warm_up=warm_up) as resources:
            app.state.resources = resources
            yield

    app = FastAPI(
        title="swingflow gateway",
        version=VERSION,
        description="REST API of the swingflow platform; live events on the `/ws` WebSocket "
        "(docs/api.md) and straight from NATS (`/asyncapi`).",
        lifespan=lifespan,
    )
    app.state.asyncapi = asyncapi.build_document(settings.nats_url, VERSION)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(405, method_not_allowed)
    app.add_middleware(HttpMetrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "PUT", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    for router in (
        symbols.router, signals.router, portfolio.router, weights.router, health.router,
        backtest.router, jobs.router, ml.router, asyncapi.router,
        static.build_router(settings.static_dir),
    ):  # fmt: skip
        app.include_router(router)
    app.router.routes.append(endpoint.route)
    app.add_middleware(endpoint.ServerSend)  # last added, so outermost: see ws/endpoint.py
    return app


def main() -> None:
    """Run the gateway in the foreground (uvicorn handles SIGINT and SIGTERM)."""
    try:
        settings = load_settings(Settings)
        check_bind(settings)
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, service=SERVICE)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
        ws_max_size=WS_MAX_SIZE,
        ws_per_message_deflate=False,  # compressing each frame per client costs more than it saves
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
