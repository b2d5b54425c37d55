"""Adapters: the tables of the review database (Alembic history: services/review/migrations)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from zc_db import messaging_tables, new_metadata

metadata: MetaData = new_metadata()
messaging = messaging_tables(metadata)  # outbox + inbox

# One row per deployed version of a process; instances keep the version they started with.
process_definitions = Table(
    "process_definitions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("process_key", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("source", Text, nullable=False),  # the BPMN text; parsed specs are cached, never stored
    Column("decisions", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # DMN texts it calls
    Column("deployed_by", String(100), nullable=False),
    Column("trusted", Boolean, nullable=False, server_default=text("false")),  # scripts allowed (admin)
    Column("deployed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("process_key", "version", name="uq_process_definitions_key_version"),
    UniqueConstraint("process_key", "content_hash", name="uq_process_definitions_key_hash"),
)

# The engine state without its spec, plus what the host queries without loading it.
process_instances = Table(
    "process_instances",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("definition_id", UUID(as_uuid=True), ForeignKey("process_definitions.id"), nullable=False),
    Column("process_key", String(100), nullable=False),
    Column("business_key", String(100), nullable=False),  # e.g. the application's id
    Column("status", String(20), nullable=False),  # running | completed | error | suspended | cancelled
    Column("state", JSONB, nullable=False),
    Column("version", Integer, nullable=False),  # optimistic lock: every save increments it
    Column("next_due_at", DateTime(timezone=True)),  # the earliest timer, for the scheduler
    Column("current_stage", String(30)),
    Column("waiting", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("routing", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("error", Text),
    Column("tree_size", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # one active review per application: a second start is a no-op; after a withdrawal a new one may start
    Index(
        "uq_process_instances_active",
        "process_key",
        "business_key",
        unique=True,
        postgresql_where=text("status IN ('running', 'error', 'suspended')"),
    ),
    Index("ix_process_instances_due", "next_due_at", postgresql_where=text("status = 'running'")),
    Index("ix_process_instances_status", "status", "updated_at"),
    Index("ix_process_instances_business_key", "business_key"),
)

# The reviewers' inbox: the open user tasks, written in the same transaction as the state.
open_tasks = Table(
    "open_tasks",
    metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("instance_id", UUID(as_uuid=True), ForeignKey("process_instances.id", ondelete="CASCADE"), nullable=False),
    Column("process_key", String(100), nullable=False),
    Column("business_key", String(100), nullable=False),
    Column("task_name", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("role", String(40)),  # the lane
    Column("scope_type", String(20)),
    Column("scope_id", String(100)),
    Column("candidate_group", String(160)),  # role@scope_type:scope_id
    Column("candidate_user", String(100)),  # set by the process (e.g. the expert a vote is for): only they see it
    Column("form_key", String(100)),
    Column("decisions", JSONB, nullable=False),
    Column("stage", String(30)),
    Column("series_code", String(20)),
    Column("unit_id", String(100)),
    Column("assignee", String(100)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True)),
    # the inbox reads its ids, total and stage counts from this index alone (migration r10000000005)
    Index(
        "ix_open_tasks_inbox",
        "role",
        "scope_type",
        "scope_id",
        postgresql_include=["candidate_user", "stage", "due_at", "created_at", "task_id"],
    ),
    Index("ix_open_tasks_instance", "instance_id"),
)

# Append-only: every transition, decision and operator action (the audit trail of the review).
history = Table(
    "history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("instance_id", UUID(as_uuid=True), ForeignKey("process_instances.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("actor_id", String(100)),
    Column("actor_role", String(40)),
    Column("scope_type", String(20)),
    Column("scope_id", String(100)),
    Column("task_id", UUID(as_uuid=True)),
    Column("task_name", String(100)),
    Column("stage", String(30)),
    Column("decision", String(30)),
    Column("comment", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("definition_version", Integer),  # none for records made outside a transition
    Index("ix_history_instance", "instance_id", "id"),
    Index("ix_history_task", "task_id", postgresql_where=text("task_id IS NOT NULL")),
    Index(
        "ix_history_decisions_by_actor",
        "actor_id",
        text("id DESC"),
        postgresql_where=text("kind = 'task_completed'"),
    ),
)

# Commands carrying an Idempotency-Key: a retry returns the stored answer and changes nothing.
command_results = Table(
    "command_results",
    metadata,
    Column("actor_id", String(100), primary_key=True),
    Column("idempotency_key", String(100), primary_key=True),
    Column("command", String(60), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
