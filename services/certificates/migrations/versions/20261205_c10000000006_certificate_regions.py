"""certificate and confirmation regions: which authorities may read and revoke a certificate

Revision ID: c10000000006
Revises: c10000000005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c10000000006"
down_revision: str | None = "c10000000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("certificates", sa.Column("region_code", sa.String(length=20), nullable=True))
    op.add_column("confirmations", sa.Column("region_code", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("confirmations", "region_code")
    op.drop_column("certificates", "region_code")
