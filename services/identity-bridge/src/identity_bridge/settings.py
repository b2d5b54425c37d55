"""Settings: environment variables prefixed IDENTITY_ (and ZC_ENV), validated when the service starts."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zc_db.pii import PiiCipher, parse_key_ring


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="IDENTITY_", extra="ignore", env_ignore_empty=True, populate_by_name=True
    )

    env: Literal["dev", "test", "production"] = Field(
        default="production", validation_alias=AliasChoices("ZC_ENV", "IDENTITY_ENV")
    )
    database_url: str = Field(pattern=r"^postgres(ql)?(\+asyncpg)?://")
    nats_url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls)://")
    # where browsers reach us; redirect URIs and the token issuer derive from it
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^/]+$")

    # which provincial platform adapter: a standard OpenID provider or a ticket-style exchange
    provider: Literal["oidc", "ticket", "none"] = "none"
    oidc_discovery_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_register_url: str | None = None
    ticket_issuer: str | None = None
    ticket_login_url: str | None = None
    ticket_register_url: str | None = None
    ticket_validate_url: str | None = None
    ticket_userinfo_url: str | None = None
    ticket_logout_url: str | None = None
    ticket_service_code: str | None = None
    ticket_service_password: str | None = None

    # browser session (BFF cookie)
    cookie_secure: bool = True
    # services allowed to ask for a person's full ID number (to query 社保 / 学信网 sources), comma-separated
    person_lookup_requesters: str = Field(default="applications,certificates", pattern=r"^[a-z_-]*(,[a-z_-]+)*$")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=8, ge=1, le=7 * 24)
    login_state_minutes: int = Field(default=10, ge=1, le=60)

    # access tokens for the other services
    signing_key_file: Path
    previous_signing_key_files: tuple[Path, ...] = ()
    access_token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    audiences: tuple[str, ...] = ("applications", "review", "certificates", "identity")

    # personal data at rest: key ring "id:base64url,id:base64url", the active id, and the blind-index key
    pii_keys: str
    pii_active_key: str
    pii_index_key: str
    pii_algorithm: Literal["AES-256-GCM", "SM4-GCM"] = "AES-256-GCM"

    # one-click demo users (development only; refused in production)
    dev_login: bool = False
    # and every demo user registered at start-up, before anyone logs in (`make run`: the experts to name)
    seed_demo_users: bool = False

    @property
    def token_issuer(self) -> str:
        return f"{self.public_base_url}/api/identity"

    @property
    def callback_url(self) -> str:
        return f"{self.public_base_url}/api/identity/callback"

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.dev_login and self.env == "production":
            raise ValueError("IDENTITY_DEV_LOGIN must not be enabled when ZC_ENV=production")
        if self.provider == "oidc" and not (
            self.oidc_discovery_url and self.oidc_client_id and self.oidc_client_secret
        ):
            raise ValueError("provider oidc needs IDENTITY_OIDC_DISCOVERY_URL, _CLIENT_ID and _CLIENT_SECRET")
        ticket = (self.ticket_issuer, self.ticket_login_url, self.ticket_validate_url, self.ticket_userinfo_url)
        if self.provider == "ticket" and not all(ticket):
            raise ValueError("provider ticket needs IDENTITY_TICKET_ISSUER, _LOGIN_URL, _VALIDATE_URL, _USERINFO_URL")
        if self.env == "production" and not self.cookie_secure:
            raise ValueError("IDENTITY_COOKIE_SECURE must be true when ZC_ENV=production")
        return self


def pii_cipher(settings: Settings) -> PiiCipher:
    key_size = 16 if settings.pii_algorithm == "SM4-GCM" else 32
    return PiiCipher(
        parse_key_ring(settings.pii_keys, key_size=key_size), settings.pii_active_key, algorithm=settings.pii_algorithm
    )
