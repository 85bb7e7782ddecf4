"""Validation errors as `{"detail": "<field>: <what is wrong>"}`, the shape of every error.

FastAPI answers a bad parameter with a list of error objects; the API contract
(docs/api.md) promises one sentence, so this handler joins them: `limit: Input should be
less than or equal to 500`. The status stays 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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
