"""Adapters: the tables of the review database (Alembic history: services/review/migrations)."""

from __future__ import annotations

from sqlalchemy import MetaData

from zc_db import messaging_tables, new_metadata

metadata: MetaData = new_metadata()
messaging = messaging_tables(metadata)  # outbox + inbox
