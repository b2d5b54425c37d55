"""Adapters: reads and writes of the identity database (users, sessions, login states, grants, audit).

Every method runs inside the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from identity_bridge.adapters.db.tables import audit_log, login_states, role_grants, sessions, users
from identity_bridge.domain.errors import DomainError
from identity_bridge.domain.identity import Grant, PendingLogin, SessionState, UserRecord
from zc_telemetry import current_trace_id

log = logging.getLogger("identity_bridge.store")
_AUDIT_LOCK = 0x2C_1D_0A_17  # advisory lock id: one audit append at a time keeps the hash chain linear


def sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


class SqlIdentityStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # --- users -------------------------------------------------------------------------------------
    async def user_by_external_id(self, issuer: str, subject: str) -> UserRecord | None:
        row = (await self._s.execute(select(users).where(users.c.issuer == issuer, users.c.subject == subject))).first()
        return _user(row) if row else None

    async def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None:
        row = (await self._s.execute(select(users).where(users.c.id == user_id))).first()
        return _user(row) if row else None

    async def id_number_enc(self, user_id: uuid.UUID) -> bytes | None:
        row = (await self._s.execute(select(users.c.id_number_enc).where(users.c.id == user_id))).first()
        return bytes(row.id_number_enc) if row else None

    async def user_id_by_id_number_index(self, id_type: str, index: bytes) -> uuid.UUID | None:
        row = (
            await self._s.execute(
                select(users.c.id).where(users.c.id_type == id_type, users.c.id_number_index == index)
            )
        ).first()
        return row.id if row else None

    async def insert_user(self, values: dict[str, Any]) -> uuid.UUID:
        user_id = uuid.uuid4()
        await self._s.execute(insert(users).values(id=user_id, **values))
        return user_id

    async def update_user_login(self, user_id: uuid.UUID, *, now: datetime, values: dict[str, Any]) -> None:
        await self._s.execute(update(users).where(users.c.id == user_id).values(last_login_at=now, **values))

    # --- login states ------------------------------------------------------------------------------
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
    ) -> None:
        await self._s.execute(
            insert(login_states).values(
                state_hash=sha256(state),
                prelogin_hash=sha256(prelogin),
                nonce=nonce,
                code_verifier=code_verifier,
                return_to=return_to,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def consume_login_state(self, *, state: str, prelogin: str, now: datetime) -> PendingLogin | None:
        """Single use: the row is marked consumed atomically; a replay, another browser's cookie or an
        expired state all find nothing."""
        row = (
            await self._s.execute(
                update(login_states)
                .where(
                    login_states.c.state_hash == sha256(state),
                    login_states.c.prelogin_hash == sha256(prelogin),
                    login_states.c.consumed_at.is_(None),
                    login_states.c.expires_at > now,
                )
                .values(consumed_at=now)
                .returning(login_states.c.nonce, login_states.c.code_verifier, login_states.c.return_to)
            )
        ).first()
        return PendingLogin(row.nonce, row.code_verifier, row.return_to) if row else None

    # --- sessions ----------------------------------------------------------------------------------
    async def create_session(
        self,
        *,
        user_id: uuid.UUID,
        token: str,
        provider: str,
        now: datetime,
        absolute_expires_at: datetime,
        provider_id_token_enc: bytes | None,
    ) -> uuid.UUID:
        session_id = uuid.uuid4()
        await self._s.execute(
            insert(sessions).values(
                id=session_id,
                token_hash=sha256(token),
                user_id=user_id,
                provider=provider,
                created_at=now,
                last_seen_at=now,
                absolute_expires_at=absolute_expires_at,
                provider_id_token_enc=provider_id_token_enc,
            )
        )
        return session_id

    async def session_by_token(self, token: str) -> tuple[SessionState, bytes | None, str] | None:
        row = (await self._s.execute(select(sessions).where(sessions.c.token_hash == sha256(token)))).first()
        if row is None:
            return None
        state = SessionState(
            id=row.id,
            user_id=row.user_id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            absolute_expires_at=row.absolute_expires_at,
            ended_at=row.ended_at,
        )
        return state, row.provider_id_token_enc, row.provider

    async def touch_session(self, session_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))

    async def end_session(self, session_id: uuid.UUID, *, reason: str, now: datetime) -> bool:
        result = await self._s.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason, provider_id_token_enc=None)
            .returning(sessions.c.id)
        )
        return result.first() is not None

    # --- role grants -------------------------------------------------------------------------------
    async def grants_of(self, user_id: uuid.UUID) -> list[Grant]:
        rows = await self._s.execute(
            select(role_grants.c.role, role_grants.c.scope_type, role_grants.c.scope_id)
            .where(role_grants.c.user_id == user_id, role_grants.c.revoked_at.is_(None))
            .order_by(role_grants.c.role, role_grants.c.scope_type, role_grants.c.scope_id)
        )
        grants = []
        for r in rows:
            try:
                grants.append(Grant(r.role, r.scope_type, r.scope_id))
            except DomainError:  # stored before a rule tightened (e.g. an unscoped authority): it grants nothing
                log.warning("stored grant no longer valid, ignored", extra={"user_id": str(user_id), "role": r.role})
        return grants

    async def holding(self, grant: Grant, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `user_ids` hold exactly this active grant."""
        g = role_grants.c
        rows = await self._s.execute(
            select(g.user_id).where(
                g.user_id.in_(user_ids),
                g.role == grant.role,
                g.scope_type == grant.scope_type,
                g.scope_id.is_(None) if grant.scope_id is None else g.scope_id == grant.scope_id,
                g.revoked_at.is_(None),
            )
        )
        return {r.user_id for r in rows}

    async def holders(self, grant: Grant) -> list[tuple[uuid.UUID, str]]:
        """Everyone holding this active grant (e.g. a committee's experts), by name."""
        g = role_grants.c
        rows = await self._s.execute(
            select(users.c.id, users.c.name)
            .join(role_grants, g.user_id == users.c.id)
            .where(g.role == grant.role, g.scope_type == grant.scope_type, g.scope_id == grant.scope_id)
            .where(g.revoked_at.is_(None))
            .order_by(users.c.name, users.c.id)
        )
        return [(r.id, r.name) for r in rows]

    async def add_grant(self, user_id: uuid.UUID, grant: Grant, *, by: str, now: datetime) -> bool:
        """False when the same grant is already active."""
        result = await self._s.execute(
            pg_insert(role_grants)
            .values(
                id=uuid.uuid4(),
                user_id=user_id,
                role=grant.role,
                scope_type=grant.scope_type,
                scope_id=grant.scope_id,
                granted_by=by,
                granted_at=now,
            )
            .on_conflict_do_nothing()
            .returning(role_grants.c.id)
        )
        return result.first() is not None

    async def revoke_grant(self, user_id: uuid.UUID, grant: Grant, *, by: str, now: datetime) -> bool:
        scope = role_grants.c.scope_id.is_(None) if grant.scope_id is None else role_grants.c.scope_id == grant.scope_id
        result = await self._s.execute(
            update(role_grants)
            .where(
                role_grants.c.user_id == user_id,
                role_grants.c.role == grant.role,
                role_grants.c.scope_type == grant.scope_type,
                scope,
                role_grants.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_by=by)
            .returning(role_grants.c.id)
        )
        return result.first() is not None

    # --- audit -------------------------------------------------------------------------------------
    async def audit(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the hash chain: hash = SHA-256(prev_hash || canonical JSON of the entry)."""
        await self._s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
        prev = (await self._s.execute(select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1))).scalar()
        prev_hash = prev or b"\x00" * 32
        now = (await self._s.execute(select(func.now()))).scalar_one()
        entry = {
            "at": now.isoformat(),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "details": details or {},
        }
        digest = hashlib.sha256(prev_hash + json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()).digest()
        await self._s.execute(
            insert(audit_log).values(
                at=now,
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                details=details or {},
                trace_id=current_trace_id(),
                prev_hash=prev_hash,
                hash=digest,
            )
        )


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        issuer=row.issuer,
        subject=row.subject,
        name=row.name,
        id_type=row.id_type,
        id_number_last4=row.id_number_last4,
        phone_enc=row.phone_enc,
        auth_level=row.auth_level,
    )
