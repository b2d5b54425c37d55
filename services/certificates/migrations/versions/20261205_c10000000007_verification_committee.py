"""证书核验 names its committee from the directory (its facts kept), or 其他 with a free name for the authority

Revision ID: c10000000007
Revises: c10000000006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c10000000007"
down_revision: str | None = "c10000000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("verifications", "committee_id", existing_type=sa.UUID(), nullable=True)
    op.add_column("verifications", sa.Column("committee", postgresql.JSONB(), nullable=True))
    op.add_column("verifications", sa.Column("authority_region", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("verifications", "authority_region")
    op.drop_column("verifications", "committee")
    op.alter_column("verifications", "committee_id", existing_type=sa.UUID(), nullable=False)
