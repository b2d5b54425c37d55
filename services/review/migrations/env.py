"""Alembic environment of the review service (its own history, its own database)."""

from review.adapters.db.tables import metadata
from zc_db.alembic_env import run_env

run_env(metadata, url_env="REVIEW_DATABASE_URL")
