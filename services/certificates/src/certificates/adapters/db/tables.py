"""Adapters: the tables of the certificates database (Alembic history: services/certificates/migrations)."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from zc_db import messaging_tables, new_metadata

metadata: MetaData = new_metadata()
messaging = messaging_tables(metadata)  # outbox + inbox

certificates = Table(
    "certificates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_no", String(40), nullable=False, unique=True),
    Column("holder_id", String(100), nullable=False),  # the internal user id (token subject)
    Column("holder_name", String(50), nullable=False),  # printed on the certificate; never the full ID number
    Column("holder_id_masked", String(40), nullable=False),
    Column("application_id", UUID(as_uuid=True), unique=True),  # exactly one certificate per approval
    Column("verification_id", UUID(as_uuid=True), unique=True),  # or per approved 证书核验
    Column("series_code", String(20), nullable=False),
    Column("level_code", String(20), nullable=False),
    Column("qualification_code", String(40), nullable=False),
    Column("qualification_name", String(100)),
    Column("specialty", String(100)),
    Column("committee_id", UUID(as_uuid=True)),
    Column("committee_name", String(200)),
    Column("evaluation_method", String(40)),
    Column("document_number", String(50)),
    Column("issue_date", Date, nullable=False),
    Column("issuing_authority", String(100), nullable=False),
    Column("source", String(20), nullable=False),  # issued | verified | out_of_province
    Column("status", String(20), nullable=False),  # valid | revoked
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(100)),
    Column("revoke_reason", Text),
    Column("qr_token", String(64), nullable=False, unique=True),  # unguessable, for the public check
    Column("key_id", String(40), nullable=False),
    Column("signature", Text, nullable=False),  # Ed25519 over domain.certificate.canonical(...)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_certificates_holder", "holder_id", "issue_date"),
)

# 证书核验: an applicant's historical certificate, reviewed by the committee's organising unit.
verifications = Table(
    "verifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("applicant_id", String(100), nullable=False),
    Column("committee_id", UUID(as_uuid=True), nullable=False),  # the review body named on the certificate
    Column("status", String(20), nullable=False),  # draft | submitted | approved | returned | rejected
    Column("status_reason", Text),
    Column("content", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_verifications_applicant", "applicant_id", "created_at"),
)

# 外省职称确认 under review: the title to record when the confirmation passes (from applications' event).
confirmations = Table(
    "confirmations",
    metadata,
    Column("record_id", UUID(as_uuid=True), primary_key=True),
    Column("applicant_id", String(100), nullable=False),
    Column("title", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Gapless numbering: one row per (year, series); the row lock serialises issuers, a rollback returns the number.
certificate_counters = Table(
    "certificate_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("series_code", String(20), primary_key=True),
    Column("last_sequence", Integer, nullable=False),
)

# Public-check rate limit, shared by every replica: requests per client per minute.
check_requests = Table(
    "check_requests",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("count", Integer, nullable=False),
)

# Who looked at or changed which certificate (revocations, downloads by others than the holder).
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("certificate_id", UUID(as_uuid=True)),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)
