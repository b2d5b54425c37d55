"""Contracts: identity-bridge events, major version 1. No personal data travels in them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from zc_contracts.envelope import EventPayload
from zc_contracts.registry import register


@register
class UserRegistered(EventPayload):
    """A person logged in for the first time through the provincial identity platform."""

    event_type: ClassVar[str] = "identity.user.registered"
    version: ClassVar[int] = 1

    user_id: str
    real_name_level: int | None = None
    registered_at: datetime


@register
class SessionEnded(EventPayload):
    """A browser session ended (logout, timeout, or an admin). Services reject its tokens from now on."""

    event_type: ClassVar[str] = "identity.session.ended"
    version: ClassVar[int] = 1

    session_id: str
    user_id: str
    reason: str
    ended_at: datetime
    tokens_valid_until: datetime  # after this, no token of the session can be valid anyway


@register
class RolesChanged(EventPayload):
    """A role grant was added or revoked; new tokens carry the change."""

    event_type: ClassVar[str] = "identity.user.roles_changed"
    version: ClassVar[int] = 1

    user_id: str
    role: str
    scope_type: str
    scope_id: str | None = None
    change: str  # granted | revoked
    changed_at: datetime
