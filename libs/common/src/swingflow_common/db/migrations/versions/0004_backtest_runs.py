"""backtest runs: everything a BacktestResult holds (mode, cash, equity, breakdowns,
walk-forward windows) and every field of its trades (fees, slippage, R multiple, stage
scores, signal time)

Nested parts are JSON columns, read whole with their run. Columns that cannot be null get
a server default so rows stored before this revision stay valid.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUN_JSON = ("equity", "walk_forward")  # lists
_RUN_JSON_DICTS = ("by_symbol", "by_setup", "by_exit_reason", "monthly", "rejected")
_TRADE_FLOATS = (
    "stop",
    "target",
    "r_multiple",
    "score_base_signal",
    "score_confirmation",
    "score_ml_confidence",
    "score_entry_timing",
)


def upgrade() -> None:
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=16), nullable=False, server_default="pipeline")
        )
        batch_op.add_column(
            sa.Column("initial_cash", sa.Float(), nullable=False, server_default="0")
        )
        for name in ("trade_count", "candidates", "confirmed"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        for name in _RUN_JSON:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=False, server_default="[]"))
        for name in _RUN_JSON_DICTS:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=False, server_default="{}"))
        batch_op.create_index(
            batch_op.f("ix_backtest_runs_created_at_id"), ["created_at", "id"], unique=False
        )

    with op.batch_alter_table("backtest_trades", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signal_ts", sa.DateTime(timezone=True), nullable=True))
        for name in ("fees", "slippage"):
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=False, server_default="0"))
        for name in _TRADE_FLOATS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backtest_trades", schema=None) as batch_op:
        for name in ("signal_ts", "fees", "slippage", *_TRADE_FLOATS):
            batch_op.drop_column(name)
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backtest_runs_created_at_id"))
        for name in (
            "mode", "initial_cash", "trade_count", "candidates", "confirmed",
            *_RUN_JSON, *_RUN_JSON_DICTS,
        ):  # fmt: skip
            batch_op.drop_column(name)
