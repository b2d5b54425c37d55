"""Adapters: the tables of the identity-bridge database (Alembic history: services/identity-bridge/migrations)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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

# A person as the provincial platform identified them. Keyed by (issuer, subject), never by ID number.
users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("issuer", String(300), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("name", String(100), nullable=False),
    Column("id_type", String(40), nullable=False),
    # ID number: encrypted (key id inside the blob), a blind index for lookup/uniqueness, last 4 for masking
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("id_number_index", LargeBinary, nullable=False),
    Column("id_number_last4", String(4), nullable=False),
    Column("phone_enc", LargeBinary),
    Column("auth_level", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True)),
    UniqueConstraint("issuer", "subject"),
    UniqueConstraint("id_type", "id_number_index", name="uq_users_id_number"),
)

# Browser sessions of the BFF. Only a hash of the cookie value is stored.
sessions = Table(
    "sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("token_hash", LargeBinary, nullable=False, unique=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("absolute_expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(40)),
    # the provider's ID token, kept server-side (encrypted) as the logout hint; never sent to the browser
    Column("provider_id_token_enc", LargeBinary),
    Index("ix_sessions_user_active", "user_id", postgresql_where=text("ended_at IS NULL")),
)

# Pre-login state: one row per started login, bound to the pre-login cookie, used once.
login_states = Table(
    "login_states",
    metadata,
    Column("state_hash", LargeBinary, primary_key=True),
    Column("prelogin_hash", LargeBinary, nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(200), nullable=False),
    Column("return_to", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("consumed_at", DateTime(timezone=True)),
)

role_grants = Table(
    "role_grants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("role", String(40), nullable=False),
    Column("scope_type", String(20), nullable=False),
    Column("scope_id", String(100)),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(100)),
    Column("revoked_at", DateTime(timezone=True)),
    Index(
        "uq_role_grants_active",
        "user_id",
        "role",
        "scope_type",
        text("coalesce(scope_id, '')"),
        unique=True,
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

# Append-only, hash-chained audit trail (who, what, when, outcome); never holds personal data in clear.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(200)),
    Column("outcome", String(20), nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("trace_id", String(32)),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("note", Text),
)
