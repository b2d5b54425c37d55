"""Use cases: login (start, finish), sessions (resolve, logout), access tokens, role grants, dev login.

Each public method is one unit of work: one transaction, committed once, audit and events included.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_bridge.domain.id_number import mask_id_number_tail, mask_name, mask_phone, validate
from identity_bridge.domain.identity import (
    ExternalIdentity,
    Grant,
    IdentityConflictError,
    LoginFailedError,
    SessionPolicy,
    UserRecord,
)
from identity_bridge.usecases.ports import (
    AccessTokenMinter,
    BlindIndexer,
    IdentityProvider,
    IdentityStore,
    PiiProtector,
)
from zc_contracts import identity_v1, make_envelope
from zc_db import MessagingTables
from zc_messaging import add_to_outbox

log = logging.getLogger("identity_bridge.usecases")

# How stale "last seen" may get: the idle timeout is minutes, so recording every request adds nothing.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionView:
    session_id: UUID
    user: UserRecord
    grants: tuple[Grant, ...]
    expires_at: datetime


def safe_return_to(value: str | None) -> str:
    """Only same-site paths: an absolute or protocol-relative URL would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class IdentityService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], IdentityStore],
        outbox: MessagingTables,
        provider: IdentityProvider | None,
        cipher: PiiProtector,
        index: BlindIndexer,
        minter: AccessTokenMinter,
        policy: SessionPolicy,
        login_state_ttl: timedelta,
        callback_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._outbox = outbox
        self.provider = provider
        self._cipher = cipher
        self._index = index
        self.minter = minter
        self.policy = policy
        self._login_state_ttl = login_state_ttl
        self._callback_url = callback_url
        self._clock = clock

    # --- login -------------------------------------------------------------------------------------
    async def start_login(self, *, return_to: str | None, register: bool = False) -> tuple[str, str]:
        """Returns (where to send the browser, the pre-login cookie value)."""
        if self.provider is None:
            raise LoginFailedError("未配置统一身份认证平台")
        start = await self.provider.begin(self._callback_url, register=register)
        prelogin = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._sessions() as s, s.begin():
            await self._store(s).save_login_state(
                state=start.state,
                prelogin=prelogin,
                nonce=start.nonce,
                code_verifier=start.code_verifier,
                return_to=safe_return_to(return_to),
                now=now,
                expires_at=now + self._login_state_ttl,
            )
        return start.authorize_url, prelogin

    async def finish_login(
        self, params: Mapping[str, str], *, prelogin: str | None, previous_session: str | None = None
    ) -> tuple[str, str]:
        """Returns (the new session cookie value, where to go). Nothing is created when any check fails."""
        if self.provider is None:
            raise LoginFailedError("未配置统一身份认证平台")
        state = params.get("state")
        if not state or not prelogin:
            await self._audit_failure("state_missing")
            raise LoginFailedError("登录失败，请重新登录")
        async with self._sessions() as s, s.begin():
            pending = await self._store(s).consume_login_state(state=state, prelogin=prelogin, now=self._clock())
        if pending is None:
            await self._audit_failure("state_unknown_or_used")
            raise LoginFailedError("登录失败，请重新登录")
        try:
            result = await self.provider.complete(
                params,
                redirect_uri=self._callback_url,
                state=state,
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
            )
        except LoginFailedError:
            await self._audit_failure("provider_rejected")
            raise
        token = await self._open_session(result.identity, provider=self.provider.kind, id_token=result.id_token)
        if previous_session:  # the browser's old session does not survive a new login
            await self._end_by_token(previous_session, reason="replaced")
        return token, pending.return_to

    async def _end_by_token(self, token: str, *, reason: str) -> None:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            found = await store.session_by_token(token)
            if found is not None:
                await self._end(s, store, found[0].id, found[0].user_id, reason=reason, now=self._clock())

    async def _registered(
        self, s: AsyncSession, store: IdentityStore, identity: ExternalIdentity, *, now: datetime
    ) -> UUID:
        """The person's account: found by the platform's subject (phone and level refreshed), or registered at
        the first login with the applicant role. Refused when the ID number is bound to another account."""
        id_number = validate(identity.id_number)  # the platform vouches; we still refuse malformed numbers
        index = self._index.digest(id_number.value, context="id_number")
        user = await store.user_by_external_id(identity.issuer, identity.subject)
        phone_enc = self._cipher.encrypt(identity.phone, context="user.phone") if identity.phone else None
        if user is not None:
            # name and ID number from registration are immutable; phone and level may change
            await store.update_user_login(
                user.id, now=now, values={"phone_enc": phone_enc, "auth_level": identity.auth_level}
            )
            return user.id
        owner = await store.user_id_by_id_number_index(identity.id_type, index)
        if owner is not None:
            await store.audit(
                actor="system",
                action="login",
                outcome="refused",
                target=f"user:{owner}",
                details={"reason": "id_number_bound_elsewhere"},
            )
            raise IdentityConflictError("该证件号码已绑定其他账号，请联系管理员")
        user_id = await store.insert_user(
            {
                "issuer": identity.issuer,
                "subject": identity.subject,
                "name": identity.name,
                "id_type": identity.id_type,
                "id_number_enc": self._cipher.encrypt(id_number.value, context="user.id_number"),
                "id_number_index": index,
                "id_number_last4": id_number.value[-4:],
                "phone_enc": phone_enc,
                "auth_level": identity.auth_level,
                "last_login_at": now,
            }
        )
        await store.add_grant(user_id, Grant("applicant", "global", None), by="system", now=now)
        await add_to_outbox(
            s,
            self._outbox,
            make_envelope(
                identity_v1.UserRegistered(
                    user_id=str(user_id), real_name_level=identity.auth_level, registered_at=now
                ),
                source="identity",
                subject_id=str(user_id),
            ),
        )
        return user_id

    async def _open_session(self, identity: ExternalIdentity, *, provider: str, id_token: str | None) -> str:
        now = self._clock()
        token = secrets.token_urlsafe(32)  # a brand-new session id at every login: no fixation
        try:
            async with self._sessions() as s, s.begin():
                store = self._store(s)
                user_id = await self._registered(s, store, identity, now=now)
                id_token_enc = self._cipher.encrypt(id_token, context="session.id_token") if id_token else None
                session_id = await store.create_session(
                    user_id=user_id,
                    token=token,
                    provider=provider,
                    now=now,
                    absolute_expires_at=now + self.policy.absolute,
                    provider_id_token_enc=id_token_enc,
                )
                await store.audit(
                    actor=f"user:{user_id}",
                    action="login",
                    outcome="success",
                    target=f"session:{session_id}",
                    details={"provider": provider},
                )
        except IntegrityError:  # a concurrent first login of the same person
            raise LoginFailedError("登录失败，请重新登录") from None
        return token

    async def _audit_failure(self, reason: str) -> None:
        async with self._sessions() as s, s.begin():
            await self._store(s).audit(actor="anonymous", action="login", outcome="failure", details={"reason": reason})

    # --- sessions ----------------------------------------------------------------------------------
    async def resolve_session(self, token: str | None, *, touch: bool = True) -> SessionView | None:
        if not token:
            return None
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            found = await store.session_by_token(token)
            if found is None:
                return None
            state, _, _ = found
            reason = state.end_reason_at(now, self.policy)
            if reason is not None:
                if reason != "ended":
                    await self._end(s, store, state.id, state.user_id, reason=reason, now=now)
                return None
            user = await store.user_by_id(state.user_id)
            assert user is not None
            grants = tuple(await store.grants_of(user.id))
            if touch and now - state.last_seen_at >= TOUCH_EVERY:  # a write per minute, not per request
                await store.touch_session(state.id, now)
        return SessionView(
            session_id=state.id,
            user=user,
            grants=grants,
            expires_at=min(state.absolute_expires_at, now + self.policy.idle),
        )

    async def logout(self, token: str | None, *, post_logout_redirect_uri: str) -> str | None:
        """Ends the session here (and, through the event, at every service); returns the provider's
        logout URL so the provider's own session ends too."""
        if not token:
            return None
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            found = await store.session_by_token(token)
            if found is None:
                return None
            state, id_token_enc, provider = found
            id_token = self._cipher.decrypt(id_token_enc, context="session.id_token") if id_token_enc else None
            await self._end(s, store, state.id, state.user_id, reason="logout", now=now)
        if self.provider is None or provider != self.provider.kind:
            return None
        return await self.provider.logout_url(id_token_hint=id_token, post_logout_redirect_uri=post_logout_redirect_uri)

    async def _end(
        self, s: AsyncSession, store: IdentityStore, session_id: UUID, user_id: UUID, *, reason: str, now: datetime
    ) -> None:
        if await store.end_session(session_id, reason=reason, now=now):
            await store.audit(
                actor=f"user:{user_id}",
                action="session_end",
                outcome="success",
                target=f"session:{session_id}",
                details={"reason": reason},
            )
            await add_to_outbox(
                s,
                self._outbox,
                make_envelope(
                    identity_v1.SessionEnded(
                        session_id=str(session_id),
                        user_id=str(user_id),
                        reason=reason,
                        ended_at=now,
                        tokens_valid_until=now + self.minter.ttl,
                    ),
                    source="identity",
                    subject_id=str(user_id),
                ),
            )

    def access_token(self, view: SessionView, audiences: list[str]) -> str:
        return self.minter.mint(
            user_id=view.user.id, session_id=view.session_id, grants=view.grants, audiences=audiences, now=self._clock()
        )

    def profile(self, view: SessionView) -> dict[str, object]:
        """What the browser may see: masked as the manual shows it (证件号码 *****5532)."""
        phone = self._cipher.decrypt(view.user.phone_enc, context="user.phone") if view.user.phone_enc else None
        return {
            "user_id": str(view.user.id),
            "name": mask_name(view.user.name),
            "id_type": view.user.id_type,
            "id_number": mask_id_number_tail(view.user.id_number_last4),
            "phone": mask_phone(phone) if phone else None,
            "auth_level": view.user.auth_level,
            "roles": [{"role": g.role, "scope_type": g.scope_type, "scope_id": g.scope_id} for g in view.grants],
            "session_expires_at": view.expires_at.isoformat(),
        }

    # --- grant checks by other services ------------------------------------------------------------
    async def holding(self, *, role: str, scope_type: str, scope_id: str | None, user_ids: list[str]) -> list[str]:
        """Which of `user_ids` hold the grant (e.g. expert of committee c): the review names experts only from
        a committee's own panel. Ids that are no user simply do not hold it."""
        grant = Grant(role, scope_type, scope_id)
        ids = {u: UUID(u) for u in user_ids if _is_uuid(u)}
        if not ids:
            return []
        async with self._sessions() as s:
            found = await self._store(s).holding(grant, list(set(ids.values())))
        return [u for u in user_ids if ids.get(u) in found]

    # --- holder lookups by other services ----------------------------------------------------------
    async def holder(self, *, user_id: str, requester: str, purpose: str) -> dict[str, str] | None:
        """The name and masked ID number for a certificate (the full ID number never leaves); audited."""
        user, _ = await self._audited_lookup("holder_lookup", user_id, requester, purpose)
        if user is None:
            return None
        return {
            "name": user.name,
            "id_type": user.id_type,
            "id_number_masked": mask_id_number_tail(user.id_number_last4),
        }

    async def person(
        self, *, user_id: str, requester: str, purpose: str, allowed: frozenset[str]
    ) -> dict[str, str] | None:
        """The full ID number, for a service that must ask a government source about the person (社保, 学信网):
        only for the services in `allowed`, only with a purpose, and every answer or refusal is audited."""
        refused = requester not in allowed or not purpose
        if refused and not _is_uuid(user_id):
            return None  # nobody to refuse about: answered as not found, unaudited, like the holder lookup
        user, blob = await self._audited_lookup(
            "person_lookup", user_id, requester, purpose, refused=refused, id_number=True
        )
        if refused:  # raised after the commit, so the refusal stays in the audit log
            raise PermissionError(requester)
        if user is None or blob is None:
            return None
        return {
            "name": user.name,
            "id_type": user.id_type,
            "id_number": self._cipher.decrypt(blob, context="user.id_number"),
        }

    async def _audited_lookup(
        self,
        action: str,
        user_id: str,
        requester: str,
        purpose: str,
        *,
        refused: bool = False,
        id_number: bool = False,
    ) -> tuple[UserRecord | None, bytes | None]:
        """Another service asks about a user: the answer (or the refusal) is in the audit log when this returns;
        the encrypted ID number only when asked for and not refused."""
        try:
            uid = UUID(user_id)
        except ValueError:
            return None, None
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            user = None if refused else await store.user_by_id(uid)
            await store.audit(
                actor=f"service:{requester}",
                action=action,
                outcome="refused" if refused else ("success" if user else "not_found"),
                target=f"user:{user_id}",
                details={"purpose": purpose},
            )
            blob = await store.id_number_enc(uid) if user and id_number else None
        return user, blob

    # --- role grants -------------------------------------------------------------------------------
    async def change_grant(self, *, actor: UUID, user_id: UUID, grant: Grant, revoke: bool) -> bool:
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            if await store.user_by_id(user_id) is None:
                return False
            if revoke:
                changed = await store.revoke_grant(user_id, grant, by=f"user:{actor}", now=now)
            else:
                changed = await store.add_grant(user_id, grant, by=f"user:{actor}", now=now)
            await store.audit(
                actor=f"user:{actor}",
                action="role_revoke" if revoke else "role_grant",
                outcome="success" if changed else "unchanged",
                target=f"user:{user_id}",
                details={"role": grant.role, "scope_type": grant.scope_type, "scope_id": grant.scope_id},
            )
            if changed:
                await add_to_outbox(
                    s,
                    self._outbox,
                    make_envelope(
                        identity_v1.RolesChanged(
                            user_id=str(user_id),
                            role=grant.role,
                            scope_type=grant.scope_type,
                            scope_id=grant.scope_id,
                            change="revoked" if revoke else "granted",
                            changed_at=now,
                        ),
                        source="identity",
                        subject_id=str(user_id),
                    ),
                )
        return True

    async def committee_experts(self, view: SessionView, committee_id: str) -> list[tuple[UUID, str]] | None:
        """The experts of a committee's panel, for whoever organises its reviews (the committee's staff or its
        organising unit) to choose from; None for anyone else (as if the committee had none to show)."""
        organisers = {
            ("committee_staff", "committee", committee_id),
            ("committee_organiser", "committee", committee_id),
        }
        if not any((g.role, g.scope_type, g.scope_id) in organisers or g.role == "admin" for g in view.grants):
            return None
        async with self._sessions() as s:
            return await self._store(s).holders(Grant("expert", "committee", committee_id))

    async def grants_of(self, user_id: UUID) -> list[Grant] | None:
        async with self._sessions() as s:
            store = self._store(s)
            if await store.user_by_id(user_id) is None:
                return None
            return await store.grants_of(user_id)

    # --- development login ---------------------------------------------------------------------------
    async def ensure_accounts(self, people: Iterable[tuple[ExternalIdentity, tuple[Grant, ...]]]) -> None:
        """Dev only: the demo users exist from the start, with their roles, so a committee can name experts who
        have not logged in yet (as real experts are registered before anyone names them)."""
        now = self._clock()
        for identity, grants in people:
            try:
                async with self._sessions() as s, s.begin():
                    store = self._store(s)
                    user_id = await self._registered(s, store, identity, now=now)
                    for grant in grants:
                        await store.add_grant(user_id, grant, by="dev-login", now=now)
            except IntegrityError:
                continue  # another replica registered the same person at the same moment

    async def dev_login(self, identity: ExternalIdentity, grants: tuple[Grant, ...]) -> str:
        """Open a session for a demo user as if the platform had vouched for them (dev only)."""
        token = await self._open_session(identity, provider="dev", id_token=None)
        view = await self.resolve_session(token, touch=False)
        assert view is not None
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            for grant in grants:
                await store.add_grant(view.user.id, grant, by="dev-login", now=now)
        return token


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
