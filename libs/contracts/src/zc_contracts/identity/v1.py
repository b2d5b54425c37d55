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
