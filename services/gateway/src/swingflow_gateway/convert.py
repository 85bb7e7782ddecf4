"""Database rows to the REST answers (`schemas`), one small function per row type."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from swingflow_common.db.models import AllocationRow, SignalRow
from swingflow_common.messages import Allocation, FeatureContribution, StageScore
from swingflow_gateway.schemas import SignalOut


def signal_out(row: SignalRow | Any) -> SignalOut:
    """A signal row (an ORM `SignalRow` or a `queries.signal_page` row) as the API shows it."""
    return SignalOut(
        id=row.id,
        symbol=row.symbol,
        ts=row.ts,
        setup=row.setup,
        status=row.status,
        rejected_by=row.rejected_by,
        total=row.total,
        threshold=row.threshold,
        stages=[StageScore.model_validate(s) for s in row.stages or ()],
        weights={str(k): float(v) for k, v in (row.weights or {}).items()},
        entry=row.entry,
        stop=row.stop,
        target=row.target,
        model_version=row.model_version,
        ml_contributions=[
            FeatureContribution.model_validate(c) for c in row.ml_contributions or ()
        ],
        reason=row.reason,
        created_at=row.created_at,
    )


def allocation_out(row: AllocationRow) -> Allocation:
    return Allocation(
        id=row.id,
        signal_id=row.signal_id,
        symbol=row.symbol,
        ts=row.ts,
        side=row.side,
        quantity=row.quantity,
        price=row.price,
        stop=row.stop,
        target=row.target,
        risk_amount=row.risk_amount,
        weight=row.weight,
        cash_after=row.cash_after,
        reason=row.reason,
        ts_event=row.created_at,
    )


def json_response(answer: BaseModel) -> Response:
    """An answer already built as its response model, serialized once.

    Returned as a `Response`, it skips FastAPI's second validation of the same object
    against `response_model`, which still documents the route.
    """
    return Response(answer.model_dump_json(), media_type="application/json")
