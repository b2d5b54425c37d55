"""Shared DB layer: async SQLAlchemy 2 engine/session factory, declarative base, outbox/inbox tables, Alembic."""

from zc_db.base import NAMING_CONVENTION, Base, new_metadata
from zc_db.engine import create_engine, create_session_factory, database_ready, json_dumps, json_loads
from zc_db.messaging_tables import MessagingTables, messaging_tables
from zc_db.paging import fetch_page

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "MessagingTables",
    "create_engine",
    "create_session_factory",
    "database_ready",
    "fetch_page",
    "json_dumps",
    "json_loads",
    "messaging_tables",
    "new_metadata",
]
