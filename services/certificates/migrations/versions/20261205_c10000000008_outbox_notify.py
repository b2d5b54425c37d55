"""the outbox notifies its relay on insert (zc_db.migration_ops.create_outbox_notify)

Revision ID: c10000000008
Revises: c10000000007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

from zc_db.migration_ops import create_outbox_notify, drop_outbox_notify

revision: str = "c10000000008"
down_revision: str | None = "c10000000007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_notify(op)


def downgrade() -> None:
    drop_outbox_notify(op)
