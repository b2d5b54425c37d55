"""load the title catalog (version 1) and the region tree from reference_data/

Revision ID: a10000000003
Revises: a10000000002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

from applications.adapters.db.tables import catalog_versions, regions
from applications.reference_data import load_catalog_document, region_rows

revision: str = "a10000000003"
down_revision: str | None = "a10000000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.bulk_insert(catalog_versions, [{"version": 1, "document": load_catalog_document(), "created_by": "migration"}])
    op.bulk_insert(regions, region_rows())  # parents come before their children


def downgrade() -> None:
    op.execute("DELETE FROM regions")
    op.execute("DELETE FROM catalog_versions WHERE version = 1")
