"""Settings: environment variables prefixed APPLICATIONS_, validated when the service starts (never at import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(pattern=r"^postgres(ql)?(\+asyncpg)?://")
    nats_url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    token_issuer: str = "http://127.0.0.1:8000/api/identity"
    token_audience: str = "applications"  # tokens name the services they are for

    # where the identity bridge publishes its token-signing keys
    # personal data at rest (phone numbers): key ring "id:base64url,…" and the active key id
    pii_keys: str
    pii_active_key: str
    # the government data sources (社保, 学信网, 省职业资格); empty: the demo registry of the embedded default
    registry_url: str | None = None
    # where uploaded files are kept: the filesystem (the embedded default) unless an S3 URL is set
    # (s3://bucket/prefix; endpoint and credentials from the standard AWS_* variables)
    attachments_dir: Path = Path(".data/attachments")
    attachments_s3_url: str | None = Field(default=None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    attachments_s3_sse: str | None = None  # e.g. AES256 or aws:kms: server-side encryption at rest
    jwks_url: str = "http://127.0.0.1:8000/api/identity/.well-known/jwks.json"
