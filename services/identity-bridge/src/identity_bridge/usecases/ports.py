"""Use cases: the ports the identity use cases need (implemented in adapters/)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from identity_bridge.domain.identity import ExternalIdentity, Grant, PendingLogin, SessionState, UserRecord


@dataclass(frozen=True)
class LoginStart:
    """What a started login must remember (server-side) and where the browser goes next."""

    authorize_url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class LoginResult:
    identity: ExternalIdentity
    id_token: str | None  # the provider's ID token, kept server-side as the logout hint


class IdentityProvider(Protocol):
    """The provincial identity platform: OIDC or a ticket-style exchange, chosen by settings."""

    kind: str

    async def begin(self, redirect_uri: str, *, register: bool = False) -> LoginStart: ...

    async def complete(
        self, params: Mapping[str, str], *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> LoginResult: ...

    async def logout_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None: ...


class PiiProtector(Protocol):
    """Encryption at rest of personal data (ID and phone numbers), with key rotation."""

    def encrypt(self, plaintext: str, *, context: str) -> bytes: ...

    def decrypt(self, blob: bytes, *, context: str) -> str: ...


class BlindIndexer(Protocol):
    def digest(self, normalized_value: str, *, context: str) -> bytes: ...


class AccessTokenMinter(Protocol):
    ttl: timedelta

    def mint(
        self, *, user_id: UUID, session_id: UUID | None, grants: Iterable[Grant], audiences: list[str], now: datetime
    ) -> str: ...


class IdentityStore(Protocol):
    """Reads and writes of the identity database inside the caller's transaction."""

    async def user_by_external_id(self, issuer: str, subject: str) -> UserRecord | None: ...
    async def user_by_id(self, user_id: UUID) -> UserRecord | None: ...
    async def id_number_enc(self, user_id: UUID) -> bytes | None: ...
    async def user_id_by_id_number_index(self, id_type: str, index: bytes) -> UUID | None: ...
    async def insert_user(self, values: dict[str, Any]) -> UUID: ...
    async def update_user_login(self, user_id: UUID, *, now: datetime, values: dict[str, Any]) -> None: ...
    async def save_login_state(
        self,
        *,
        state: str,
        prelogin: str,
        nonce: str,
        code_verifier: str,
        return_to: str,
        now: datetime,
        expires_at: datetime,
    ) -> None: ...
    async def consume_login_state(self, *, state: str, prelogin: str, now: datetime) -> PendingLogin | None: ...
    async def create_session(
        self,
        *,
        user_id: UUID,
        token: str,
        provider: str,
        now: datetime,
        absolute_expires_at: datetime,
        provider_id_token_enc: bytes | None,
    ) -> UUID: ...
    async def session_by_token(self, token: str) -> tuple[SessionState, bytes | None, str] | None: ...
    async def touch_session(self, session_id: UUID, now: datetime) -> None: ...
    async def end_session(self, session_id: UUID, *, reason: str, now: datetime) -> bool: ...
    async def grants_of(self, user_id: UUID) -> list[Grant]: ...
    async def holding(self, grant: Grant, user_ids: list[UUID]) -> set[UUID]: ...
    async def holders(self, grant: Grant) -> list[tuple[UUID, str]]: ...
    async def add_grant(self, user_id: UUID, grant: Grant, *, by: str, now: datetime) -> bool: ...
    async def revoke_grant(self, user_id: UUID, grant: Grant, *, by: str, now: datetime) -> bool: ...
    async def audit(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None: ...
