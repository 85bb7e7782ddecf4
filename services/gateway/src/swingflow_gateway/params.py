"""Query and path parameters shared by the routers, validated before any query runs.

Every bad value is a 422 that names the parameter: a symbol of the wrong shape, a time
that is not ISO 8601 (or out of range once moved to UTC), `from` after `to`, a score
outside [0, 1], a page past the limits. None of them reaches the database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, status
from pydantic import AfterValidator, BeforeValidator

SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,15}$"
SETUP_PATTERN = r"^[a-z0-9_]{1,64}$"
MAX_OFFSET = 10_000_000


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: object) -> object:
    """Refuse what pydantic would read as a Unix timestamp: times here are ISO 8601."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError(
            "must be an ISO 8601 date or time, e.g. 2024-03-01 or 2024-03-01T00:00:00Z"
        )
    return value


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


Time = Annotated[datetime | None, BeforeValidator(_iso_only), AfterValidator(_utc)]
SymbolPath = Annotated[
    str,
    Path(pattern=SYMBOL_PATTERN, description="Ticker, any case (BRK.B, aapl)."),
    AfterValidator(str.upper),
]
SymbolQuery = Annotated[
    str | None,
    Query(pattern=SYMBOL_PATTERN, description="Only this symbol (any case)."),
    AfterValidator(_upper),
]
SetupQuery = Annotated[
    str | None, Query(pattern=SETUP_PATTERN, description="Only this setup, e.g. breakout_volume.")
]
MinScore = Annotated[
    float | None,
    Query(ge=0, le=1, description="Only signals whose total is at least this."),
    AfterValidator(_finite),
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@dataclass(frozen=True)
class Period:
    start: datetime | None
    end: datetime | None


async def period(
    start: Annotated[
        Time, Query(alias="from", description="Bar time from (ISO 8601, UTC).")
    ] = None,
    end: Annotated[Time, Query(alias="to", description="Bar time to, inclusive.")] = None,
) -> Period:
    """`from` and `to`, in UTC (a time without a zone is UTC); `from` must not be after `to`."""
    if start is not None and end is not None and start > end:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"from ({start.isoformat()}) is after to ({end.isoformat()})",
        )
    return Period(start, end)


PeriodDep = Annotated[Period, Depends(period)]
