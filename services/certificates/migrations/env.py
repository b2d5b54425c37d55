"""Alembic environment of the certificates service (its own history, its own database)."""

from certificates.adapters.db.tables import metadata
from zc_db.alembic_env import run_env

run_env(metadata, url_env="CERTIFICATES_DATABASE_URL")
