"""Bearer-token check for writes: `Authorization: Bearer <SWINGFLOW_API_TOKEN>`.

The comparison is constant-time (`hmac.compare_digest`), a refusal is a 401 with a
`WWW-Authenticate` header, and a gateway started without a token refuses every write
with a 503 that says so (no token could succeed). The token is never logged.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from swingflow_gateway.deps import SettingsDep

_bearer = HTTPBearer(auto_error=False, description="SWINGFLOW_API_TOKEN")
REALM = 'Bearer realm="swingflow"'


async def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through only with the configured token."""
    expected = settings.token
    if expected is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "writes are disabled: the gateway was started without SWINGFLOW_API_TOKEN",
        )
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is required: Authorization: Bearer <SWINGFLOW_API_TOKEN>",
            headers={"WWW-Authenticate": REALM},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the bearer token is not valid",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )


WriteAccess = Depends(require_token)
