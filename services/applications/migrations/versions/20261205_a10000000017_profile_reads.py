"""reads of personal data outside an application (the applicant's own 个人信息 shown in clear) are recorded too

Revision ID: a10000000017
Revises: a10000000016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a10000000017"
down_revision: str | None = "a10000000016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("personal_data_access", "application_id", existing_type=sa.UUID(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM personal_data_access WHERE application_id IS NULL")
    op.alter_column("personal_data_access", "application_id", existing_type=sa.UUID(), nullable=False)
