"""Inbox reads from the index alone: (role, scope_type, scope_id) carrying what the inbox filters, counts and
sorts by, replacing ix_open_tasks_group; statistics on role and scope_type, which go together (an authority's
tasks are all region-scoped); open_tasks and history vacuumed sooner, for the index-only scans

Revision ID: r10000000005
Revises: r10000000004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "r10000000005"
down_revision: str | None = "r10000000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the first page's ids, the total and the stage counts come from index-only scans (instance_store._visible);
    # the page's 20 rows are then read by primary key
    op.create_index(
        "ix_open_tasks_inbox",
        "open_tasks",
        ["role", "scope_type", "scope_id"],
        postgresql_include=["candidate_user", "stage", "due_at", "created_at", "task_id"],
    )
    op.drop_index("ix_open_tasks_group", table_name="open_tasks")
    # without it the planner multiplies the two selectivities and expects a few rows of thousands
    op.execute("CREATE STATISTICS st_open_tasks_role_scope (dependencies) ON role, scope_type FROM open_tasks")
    # an index-only scan visits the table for every page changed since the last VACUUM: open_tasks changes with
    # every transition, and 已办 counts history rows by index, so both are vacuumed after 2% new or changed rows
    # (the default waits for 20%)
    op.execute(
        "ALTER TABLE open_tasks SET (autovacuum_vacuum_scale_factor = 0.02,"
        " autovacuum_vacuum_insert_scale_factor = 0.02)"
    )
    op.execute("ALTER TABLE history SET (autovacuum_vacuum_insert_scale_factor = 0.02)")


def downgrade() -> None:
    op.execute("ALTER TABLE history RESET (autovacuum_vacuum_insert_scale_factor)")
    op.execute("ALTER TABLE open_tasks RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)")
    op.execute("DROP STATISTICS IF EXISTS st_open_tasks_role_scope")
    op.create_index("ix_open_tasks_group", "open_tasks", ["role", "scope_type", "scope_id"])
    op.drop_index("ix_open_tasks_inbox", table_name="open_tasks")
