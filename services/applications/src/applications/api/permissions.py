"""API: who may maintain a committee — its settings, its review activities and its portal articles."""

from __future__ import annotations

from applications.domain.committees import Committee
from zc_auth import Principal, Role, ScopeType


def may_maintain(principal: Principal, committee: Committee | None, organiser_id: str) -> bool:
    """Admins; the organising unit's 评委会组建单位 staff; the committee's own staff (not its scope)."""
    if principal.has_role(Role.ADMIN) or principal.has_role(Role.COMMITTEE_ORGANISER, ScopeType.UNIT, organiser_id):
        return True
    return committee is not None and principal.has_role(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, committee.id)
