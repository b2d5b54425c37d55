"""the applicant's registered identity (name, ID type, masked ID number, and what the number says) on applications
and personal records

Revision ID: a10000000016
Revises: a10000000015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a10000000016"
down_revision: str | None = "a10000000015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("applicant_identity", postgresql.JSONB(), nullable=True))
    op.add_column("personal_records", sa.Column("applicant_identity", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("personal_records", "applicant_identity")
    op.drop_column("applications", "applicant_identity")
