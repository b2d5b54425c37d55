"""attachments of section entries (学历证, 论文 proofs, …): the section and the entry they belong to

Revision ID: a10000000014
Revises: a10000000013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a10000000014"
down_revision: str | None = "a10000000013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("attachments", sa.Column("section", sa.String(length=40), nullable=True))
    op.add_column("attachments", sa.Column("entry_id", sa.String(length=40), nullable=True))
    op.create_index("ix_attachments_entry", "attachments", ["application_id", "section", "entry_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachments_entry", table_name="attachments")
    op.drop_column("attachments", "entry_id")
    op.drop_column("attachments", "section")
