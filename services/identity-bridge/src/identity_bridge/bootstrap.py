"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from identity_bridge.adapters.db.store import SqlIdentityStore
from identity_bridge.adapters.db.tables import messaging
from identity_bridge.adapters.oidc import OidcProvider
from identity_bridge.adapters.signing_keys import SigningKeyRing
from identity_bridge.adapters.ticket import TicketProvider
from identity_bridge.adapters.token_minter import TokenMinter
from identity_bridge.consumers.holder_lookup import serve_holder_lookups
from identity_bridge.demo_users import DEMO_USERS
from identity_bridge.domain.identity import SessionPolicy
from identity_bridge.settings import Settings, pii_cipher
from identity_bridge.usecases.handlers import IdentityService
from identity_bridge.usecases.ports import IdentityProvider
from zc_db.pii import BlindIndex
from zc_messaging import ServiceRuntime

SERVICE = "identity-bridge"


@dataclass
class Container:
    settings: Settings
    runtime: ServiceRuntime
    http: httpx.AsyncClient
    signing_keys: SigningKeyRing
    identity: IdentityService
    token_verifier: None = None  # the bridge mints tokens; its own routes use the session cookie
    lookups: asyncio.Task[None] | None = None  # answers other services' holder lookups

    @property
    def jwks(self) -> dict[str, Any]:
        return self.signing_keys.jwks

    async def readiness(self) -> dict[str, bool]:
        return await self.runtime.readiness()

    async def aclose(self) -> None:
        if self.lookups is not None:
            self.lookups.cancel()
        await self.http.aclose()
        await self.runtime.aclose()


def build_provider(settings: Settings, http: httpx.AsyncClient) -> IdentityProvider | None:
    if settings.provider == "oidc":
        assert settings.oidc_discovery_url and settings.oidc_client_id and settings.oidc_client_secret
        return OidcProvider(
            discovery_url=settings.oidc_discovery_url,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            http=http,
            register_url=settings.oidc_register_url,
        )
    if settings.provider == "ticket":
        assert settings.ticket_issuer and settings.ticket_login_url
        assert settings.ticket_validate_url and settings.ticket_userinfo_url
        return TicketProvider(
            issuer=settings.ticket_issuer,
            login_url=settings.ticket_login_url,
            register_url=settings.ticket_register_url or settings.ticket_login_url,
            validate_url=settings.ticket_validate_url,
            userinfo_url=settings.ticket_userinfo_url,
            service_code=settings.ticket_service_code or "",
            service_password=settings.ticket_service_password or "",
            http=http,
            logout_url=settings.ticket_logout_url,
        )
    return None


def _index_key(encoded: str) -> bytes:
    key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(key) != 32:
        raise ValueError("IDENTITY_PII_INDEX_KEY must be 32 bytes (base64url)")
    return key


async def build_container(settings: Settings, *, http: httpx.AsyncClient | None = None) -> Container:
    runtime = await ServiceRuntime.start(SERVICE, database_url=settings.database_url, nats_url=settings.nats_url)
    http = http or httpx.AsyncClient(timeout=10)
    keys = SigningKeyRing.from_files(settings.signing_key_file, settings.previous_signing_key_files)
    identity = IdentityService(
        sessions=runtime.sessions,
        store=SqlIdentityStore,
        outbox=messaging,
        provider=build_provider(settings, http),
        cipher=pii_cipher(settings),
        index=BlindIndex(_index_key(settings.pii_index_key)),
        minter=TokenMinter(
            keys, issuer=settings.token_issuer, ttl=timedelta(seconds=settings.access_token_ttl_seconds)
        ),
        policy=SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        ),
        login_state_ttl=timedelta(minutes=settings.login_state_minutes),
        callback_url=settings.callback_url,
    )
    if settings.dev_login and settings.seed_demo_users:
        await identity.ensure_accounts((user.identity(), user.grants) for user in DEMO_USERS)
    lookups = asyncio.create_task(
        serve_holder_lookups(
            runtime.nats, identity, person_requesters=frozenset(settings.person_lookup_requesters.split(","))
        ),
        name="holder-lookups",
    )
    return Container(
        settings=settings, runtime=runtime, http=http, signing_keys=keys, identity=identity, lookups=lookups
    )
