"""已办: a reviewer's decisions, newest first, read by actor

Revision ID: r10000000004
Revises: r10000000003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r10000000004"
down_revision: str | None = "r10000000003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_history_decisions_by_actor",
        "history",
        ["actor_id", sa.text("id DESC")],
        postgresql_where=sa.text("kind = 'task_completed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_history_decisions_by_actor", table_name="history")
