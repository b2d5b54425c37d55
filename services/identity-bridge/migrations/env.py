"""Alembic environment of the identity-bridge service (its own history, its own database)."""

from identity_bridge.adapters.db.tables import metadata
from zc_db.alembic_env import run_env

run_env(metadata, url_env="IDENTITY_DATABASE_URL")
