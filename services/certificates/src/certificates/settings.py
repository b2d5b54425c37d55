"""Settings: environment variables prefixed CERTIFICATES_, validated when the service starts (never at import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CERTIFICATES_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(pattern=r"^postgres(ql)?(\+asyncpg)?://")
    nats_url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    token_issuer: str = "http://127.0.0.1:8000/api/identity"
    token_audience: str = "certificates"  # tokens name the services they are for

    # where the identity bridge publishes its token-signing keys
    jwks_url: str = "http://127.0.0.1:8000/api/identity/.well-known/jwks.json"

    # Ed25519 key that signs certificate data: `<key id>:<base64 32-byte private key>` (a Secret in k8s)
    signing_key: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}:[A-Za-z0-9+/=]{40,60}$")
    # public keys of earlier signing keys, so old certificates still verify: `<key id>:<base64>,...`
    verify_keys: str = ""
    province_code: str = Field(default="51", pattern=r"^\d{2}$")  # 四川
    issuing_authority: str = Field(default="四川省人力资源和社会保障厅", max_length=100)
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://")  # in the QR code
    checks_per_minute: int = Field(default=30, ge=1, le=10_000)  # public check, per client

    # 证书核验 同步社保数据: the government source; empty: the demo registry of the embedded default
    registry_url: str | None = None
    # 证书核验 attachments: the filesystem (embedded default) unless an S3 URL is set (s3://bucket/prefix;
    # endpoint and credentials from the standard AWS_* variables)
    attachments_dir: Path = Path(".data/certificates-attachments")
    attachments_s3_url: str | None = Field(default=None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    attachments_s3_sse: str | None = None
