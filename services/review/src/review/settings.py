"""Settings: environment variables prefixed REVIEW_, validated when the service starts (never at import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(pattern=r"^postgres(ql)?(\+asyncpg)?://")
    nats_url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    token_issuer: str = "http://127.0.0.1:8000/api/identity"
    token_audience: str = "review"  # tokens name the services they are for

    # where the identity bridge publishes its token-signing keys
    jwks_url: str = "http://127.0.0.1:8000/api/identity/.well-known/jwks.json"

    # the diagrams deployed at worker start (bpmn/<key>/<key>.bpmn); a changed file becomes a new version
    bpmn_dir: Path | None = None
    # extra working-day calendars (cn-YYYY.json) added by operators without a release
    calendar_dir: Path | None = None
    # how often the timer scheduler looks for due instances, and how many it claims per pass
    timer_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    timer_batch: int = Field(default=100, ge=1, le=1000)
