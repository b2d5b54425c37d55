"""portal articles: 通知公告, 政策文件 and 评审公示 (docs/decisions/0020)

Revision ID: a10000000015
Revises: a10000000014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a10000000015"
down_revision: str | None = "a10000000014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_articles",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.String(length=20000), nullable=False),
        sa.Column("publisher", sa.String(length=100), nullable=False),
        sa.Column("committee_id", sa.UUID(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("entries", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("kind IN ('notice', 'policy', 'publicity')", name=op.f("ck_portal_articles_kind")),
        sa.CheckConstraint(
            "kind <> 'publicity' OR (committee_id IS NOT NULL AND year IS NOT NULL)",
            name=op.f("ck_portal_articles_publicity_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name=op.f("fk_portal_articles_committee_id_committees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_articles")),
    )
    op.create_index("ix_portal_articles_listing", "portal_articles", ["kind", "published_at"], unique=False)
    op.create_index("ix_portal_articles_committee", "portal_articles", ["committee_id", "year"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_portal_articles_committee", table_name="portal_articles")
    op.drop_index("ix_portal_articles_listing", table_name="portal_articles")
    op.drop_table("portal_articles")
