"""outbox and inbox tables

Revision ID: a10000000001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

from zc_db.migration_ops import create_messaging_tables, drop_messaging_tables

revision: str = "a10000000001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
