"""one active instance per business key; tasks for one named person; DMN tables and trust per definition

Revision ID: r10000000003
Revises: r10000000002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "r10000000003"
down_revision: str | None = "r10000000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('running', 'error', 'suspended')"


def upgrade() -> None:
    op.drop_constraint("uq_process_instances_key_business", "process_instances", type_="unique")
    op.create_index(
        "uq_process_instances_active",
        "process_instances",
        ["process_key", "business_key"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
    )
    op.add_column("open_tasks", sa.Column("candidate_user", sa.String(length=100), nullable=True))
    op.add_column(
        "process_definitions",
        sa.Column("decisions", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
    )
    op.add_column(
        "process_definitions", sa.Column("trusted", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("process_definitions", "trusted")
    op.drop_column("process_definitions", "decisions")
    op.drop_column("open_tasks", "candidate_user")
    op.drop_index("uq_process_instances_active", table_name="process_instances", postgresql_where=sa.text(ACTIVE))
    op.create_unique_constraint(
        "uq_process_instances_key_business", "process_instances", ["process_key", "business_key"]
    )
