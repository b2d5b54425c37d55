"""Adapters: the tables of the applications database (Alembic history: services/applications/migrations)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from zc_db import messaging_tables, new_metadata

metadata: MetaData = new_metadata()
messaging = messaging_tables(metadata)  # outbox + inbox

# The title catalog, one immutable document per version; an application records the version it used.
catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(100), nullable=False),
)

regions = Table(
    "regions",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("parent_code", String(20), ForeignKey("regions.code")),
    Column("display_path", String(200), nullable=False),
)

# 主管部门: the competent departments that review above a unit
departments = Table(
    "departments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("region_code", String(20), ForeignKey("regions.code"), nullable=False),
)

# 工作单位 registered in the system (only these can be chosen by an applicant)
units = Table(
    "units",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("region_code", String(20), ForeignKey("regions.code"), nullable=False),
    Column("department_chain", JSONB, nullable=False),  # department ids, nearest first
    Column("central_in_sichuan", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_units_name", "name"),
)

committees = Table(
    "committees",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("series", String(40), nullable=False),
    Column("levels", JSONB, nullable=False),
    Column("region_scope", String(20), ForeignKey("regions.code"), nullable=False),
    Column("organiser_id", String(64), nullable=False),
    Column("organiser_name", String(100), nullable=False),
    Column("contact_person", String(30), nullable=False),
    Column("contact_phone", String(30), nullable=False),
    Column("specialties", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_committees_series", "series"),
)

# 评审活动: one per committee and year; the notice fields, templates, waivers and required materials
review_activities = Table(
    "review_activities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("committee_id", UUID(as_uuid=True), ForeignKey("committees.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("first_submit_deadline", Date, nullable=False),
    Column("modify_deadline", Date, nullable=False),
    Column("unit_deadline", Date, nullable=False),
    Column("notice", JSONB, nullable=False),
    Column("achievement_templates", JSONB, nullable=False),
    Column("waivers", JSONB, nullable=False),
    Column("required_materials", JSONB, nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("committee_id", "year"),
)

# 申报: one per applicant, year and qualification (abandoned ones aside); sections as versioned JSON
applications_table = Table(
    "applications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("applicant_id", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("method", String(30), nullable=False),
    Column("unit_id", UUID(as_uuid=True), ForeignKey("units.id"), nullable=False),
    Column("committee_id", UUID(as_uuid=True), ForeignKey("committees.id")),
    Column("activity_id", UUID(as_uuid=True)),
    Column("settings", JSONB, nullable=False),  # the checked 个人申报设置 incl. names and catalog version
    Column("status", String(20), nullable=False),
    Column("status_reason", String(500)),
    Column("sections", JSONB, nullable=False, server_default="{}"),
    Column("section_versions", JSONB, nullable=False, server_default="{}"),
    Column("snapshot_version", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", DateTime(timezone=True)),
    Column("withdraw_requested_at", DateTime(timezone=True)),  # 撤回 asked; the review service decides
    Column("trail", JSONB, nullable=False, server_default="[]"),  # 审核流程: what happened, when, why
    # review stages reached so far ([{"stage", "department_id"}]); decides which reviewers may read
    Column("stages_reached", JSONB, nullable=False, server_default="[]"),
    # who applies, as the identity platform registered them (name, ID type, masked number, gender, birth date);
    # the full ID number is never kept here
    Column("applicant_identity", JSONB),
    Index("ix_applications_applicant", "applicant_id"),
    # one live application per applicant, year and qualification (created in migration a10000000004)
    Index(
        "uq_applications_live",
        "applicant_id",
        "year",
        text("(settings ->> 'qualification')"),
        unique=True,
        postgresql_where=text("status <> 'abandoned'"),
    ),
)

# What was submitted, frozen: a new version per (re)submission; never updated (a trigger refuses it)
application_snapshots = Table(
    "application_snapshots",
    metadata,
    Column("application_id", UUID(as_uuid=True), ForeignKey("applications.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Uploaded files of an application (the photo, committee-required materials) or of a personal record (the
# 外省职称确认 photo and proofs); the bytes live in the attachment storage
attachments = Table(
    "attachments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("application_id", UUID(as_uuid=True), ForeignKey("applications.id")),
    Column("record_id", UUID(as_uuid=True), ForeignKey("personal_records.id")),
    Column("kind", String(20), nullable=False),  # photo | material
    Column("material_name", String(50)),
    # an entry's file (kind "entry"): the section and the entry's id inside it
    Column("section", String(40)),
    Column("entry_id", String(40)),
    Column("filename", String(200), nullable=False),  # as the user named it; shown, never used as a path
    Column("content_type", String(50), nullable=False),  # from the content, not the name
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(100), nullable=False),  # generated by the server
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
    Index("ix_attachments_application", "application_id"),
    Index("ix_attachments_record", "record_id"),
    Index("ix_attachments_entry", "application_id", "section", "entry_id"),
    CheckConstraint("num_nonnulls(application_id, record_id) = 1", name="one_owner"),
)

# 我的消息: from the unit, defence (答辩) notices, complaint feedback, and the system's own notices
messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("recipient", String(64), nullable=False),
    Column("kind", String(20), nullable=False),  # unit | defence | complaint | system
    Column("sender_name", String(100), nullable=False),
    Column("title", String(100), nullable=False),
    Column("body", String(2000), nullable=False),
    Column("application_id", UUID(as_uuid=True), ForeignKey("applications.id")),
    Column("event_id", UUID(as_uuid=True), unique=True),  # a system notice is sent once per event
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_messages_recipient", "recipient", "created_at"),
)

# Who saw personal data in clear, and when (append-only)
personal_data_access = Table(
    "personal_data_access",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(64), nullable=False),
    Column("application_id", UUID(as_uuid=True)),  # none: the applicant's own 个人信息
    Column("fields", JSONB, nullable=False),
)

# 个人信息 (§2.3): kept between applications; a new application copies it in
profiles = Table(
    "profiles",
    metadata,
    Column("applicant_id", String(64), primary_key=True),
    Column("sections", JSONB, nullable=False, server_default="{}"),
    Column("section_versions", JSONB, nullable=False, server_default="{}"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# 外省职称确认 (§2.7) and 专技人才统计 (§2.6): a person's record, filled in, then submitted to the unit
personal_records = Table(
    "personal_records",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("applicant_id", String(64), nullable=False),
    Column("kind", String(30), nullable=False),  # out_of_province | talent_stats
    Column("unit_id", UUID(as_uuid=True), ForeignKey("units.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_reason", String(500)),
    Column("content", JSONB, nullable=False, server_default="{}"),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", DateTime(timezone=True)),
    Column("applicant_identity", JSONB),  # as on applications
    Index("ix_personal_records_applicant", "applicant_id", "kind"),
)

# The portal's articles (通知公告, 政策文件, 评审公示): public once published, until withdrawn; a 评审公示 is a
# committee's for one year and lists its people with masked names (docs/decisions/0020)
portal_articles = Table(
    "portal_articles",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(20), nullable=False),  # notice | policy | publicity
    Column("title", String(100), nullable=False),
    Column("body", String(20000), nullable=False),  # plain text, never rendered as HTML
    Column("publisher", String(100), nullable=False),  # 发布单位, as shown
    Column("committee_id", UUID(as_uuid=True), ForeignKey("committees.id")),
    Column("year", Integer),  # the review activity's year
    Column("entries", JSONB, nullable=False, server_default="[]"),  # 评审公示: [{name (masked), unit, …}]
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("author", String(100), nullable=False),  # who published it (user:<subject>)
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("kind IN ('notice', 'policy', 'publicity')", name="kind"),
    CheckConstraint("kind <> 'publicity' OR (committee_id IS NOT NULL AND year IS NOT NULL)", name="publicity_scope"),
    Index("ix_portal_articles_listing", "kind", "published_at"),
    Index("ix_portal_articles_committee", "committee_id", "year"),
)
