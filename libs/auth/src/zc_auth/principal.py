"""Auth library, domain-free model: who is calling (Principal) and which roles they hold in which scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """Roles the identity bridge can grant; values are the wire names used in the token's `roles` claim."""

    APPLICANT = "applicant"  # 申报人
    UNIT_REVIEWER = "unit_reviewer"  # 工作单位
    DEPARTMENT_REVIEWER = "department_reviewer"  # 主管部门
    COMMITTEE_STAFF = "committee_staff"  # 评委会
    COMMITTEE_ORGANISER = "committee_organiser"  # 评委会组建单位
    EXPERT = "expert"  # 评审专家
    AUTHORITY = "authority"  # 授权管理单位/发证单位
    PROCESS_DESIGNER = "process_designer"  # 流程设计
    OPERATOR = "operator"  # 运维
    ADMIN = "admin"  # 系统管理员


class ScopeType(StrEnum):
    """What a role grant is limited to; GLOBAL means the role applies everywhere."""

    GLOBAL = "global"
    UNIT = "unit"
    DEPARTMENT = "department"
    COMMITTEE = "committee"
    REGION = "region"


_DIVISION_CODE = re.compile(r"\d{6}")


def region_prefix(scope_id: str) -> str | None:
    """The code prefix a REGION grant covers, by the structure of GB/T 2260 division codes: a province
    (NN0000) covers every code starting with its 2 digits, a prefecture (NNNN00) every code starting with
    its 4, a county only itself. None for any other id (e.g. the seed's "510100-BJ" own-level node), which
    covers exactly itself."""
    if not _DIVISION_CODE.fullmatch(scope_id):
        return None
    if scope_id.endswith("0000"):
        return scope_id[:2]
    if scope_id.endswith("00"):
        return scope_id[:4]
    return scope_id


def region_covers(scope_id: str, region_code: str) -> bool:
    """Whether a grant in region `scope_id` reaches a resource in region `region_code` (itself or below)."""
    if scope_id == region_code:
        return True
    prefix = region_prefix(scope_id)
    return prefix is not None and region_code.startswith(prefix)


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held within one scope, e.g. unit_reviewer of unit "u-42"; GLOBAL grants carry no scope_id."""

    role: Role
    scope_type: ScopeType
    scope_id: str | None = None

    def __post_init__(self) -> None:
        # A global grant with an id, or a scoped grant without one, is ambiguous: refuse it early.
        if self.scope_type == ScopeType.GLOBAL and self.scope_id is not None:
            raise ValueError("a global role grant must not carry a scope_id")
        if self.scope_type != ScopeType.GLOBAL and not self.scope_id:
            raise ValueError(f"a {self.scope_type.value} role grant needs a scope_id")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. Built only from a verified access token, never from request headers."""

    subject: str
    session_id: str | None
    roles: frozenset[RoleGrant]
    issuer: str
    expires_at: datetime

    def has_role(self, role: Role, scope_type: ScopeType | None = None, scope_id: str | None = None) -> bool:
        """Whether the caller holds `role`.

        No scope_type: the role in any scope. scope_type only: the role in some scope of that type.
        scope_type and scope_id: the role in exactly that scope, or for REGION in that region or one above
        it (`region_covers`). A GLOBAL grant satisfies every scope. ADMIN is not implied: an admin holds only
        the roles actually granted.
        """
        if scope_type is None and scope_id is not None:
            raise ValueError("scope_id given without scope_type")
        for grant in self.roles:
            if grant.role != role:
                continue
            if scope_type is None or grant.scope_type == ScopeType.GLOBAL:
                return True
            if grant.scope_type != scope_type:
                continue
            if scope_id is None or grant.scope_id == scope_id:
                return True
            if scope_type == ScopeType.REGION and grant.scope_id and region_covers(grant.scope_id, scope_id):
                return True
        return False

    def has_any_role(self, *roles: Role) -> bool:
        """Whether the caller holds at least one of `roles`, in any scope."""
        return any(grant.role in roles for grant in self.roles)

    def scopes_for(self, role: Role) -> set[tuple[ScopeType, str | None]]:
        """The (scope_type, scope_id) pairs in which the caller holds `role`; empty if not held."""
        return {(grant.scope_type, grant.scope_id) for grant in self.roles if grant.role == role}
