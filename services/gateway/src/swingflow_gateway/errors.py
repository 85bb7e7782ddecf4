"""Error answers in the contract's shape, `{"detail": "<what is wrong>"}`.

FastAPI answers a bad parameter with a list of error objects; the API contract
(docs/api.md) promises one sentence, so `validation_error` joins them: `limit: Input
should be less than or equal to 500`. The status stays 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

_WHERE = frozenset({"query", "path", "body", "header", "cookie"})


def describe(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in _WHERE or len(error["loc"]) == 1]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(parts) or "invalid request"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": describe(errors)}, status_code=422)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """A 405 whose `Allow` lists every method of the path, not just the first route's.

    Starlette answers with the methods of the first route whose path matched; with GET
    and PUT on `/api/weights` as two routes, that would be `Allow: GET` alone. Each method
    is tried against every route through the public `matches`.
    """
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    detail = exc.detail if isinstance(exc, HTTPException) else "Method Not Allowed"
    return JSONResponse({"detail": detail}, status_code=405, headers={"Allow": ", ".join(allowed)})
