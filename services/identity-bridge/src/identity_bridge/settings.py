"""Settings: environment variables prefixed IDENTITY_, validated when the service starts (never at import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(pattern=r"^postgres(ql)?(\+asyncpg)?://")
    nats_url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    token_issuer: str = "http://127.0.0.1:8000/api/identity"
    token_audience: str = "zhicheng"

    # PEM of the EC P-256 key that signs access tokens; its public half is served as JWKS.
    signing_key_file: Path
