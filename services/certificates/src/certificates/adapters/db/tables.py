"""Adapters: the tables of the certificates database (Alembic history: services/certificates/migrations)."""

from __future__ import annotations

from sqlalchemy import MetaData

from zc_db import messaging_tables, new_metadata

metadata: MetaData = new_metadata()
messaging = messaging_tables(metadata)  # outbox + inbox
