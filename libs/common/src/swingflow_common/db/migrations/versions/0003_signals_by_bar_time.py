"""signals by bar time: an index for the newest-first pages of GET /api/signals

Without it, a page of the unfiltered list sorts the whole table (24 ms on 10,000 signals
in SQLite, measured); with it, the newest rows are read in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_ts_id"), ["ts", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_ts_id"))
