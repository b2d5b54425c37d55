"""Alembic environment of the applications service (its own history, its own database)."""

from applications.adapters.db.tables import metadata
from zc_db.alembic_env import run_env

run_env(metadata, url_env="APPLICATIONS_DATABASE_URL")
