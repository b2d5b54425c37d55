"""Domain: the identity a provincial platform vouches for, sessions and their timeouts, roles and scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from identity_bridge.domain.errors import DomainError

# The roles of the platform (mirrors zc_auth.Role; the domain imports no library).
ROLES = frozenset(
    {
        "applicant",  # 申报人
        "unit_reviewer",  # 工作单位
        "department_reviewer",  # 主管部门 (at a region level)
        "committee_staff",  # 评委会
        "committee_organiser",  # 评委会组建单位
        "expert",  # 评审专家
        "authority",  # 授权管理单位 / 发证单位
        "process_designer",
        "operator",
        "admin",
    }
)
SCOPE_TYPES = frozenset({"global", "unit", "department", "committee", "region"})


class LoginFailedError(DomainError):
    code = "identity.login_failed"
    status_hint = 401


class IdentityConflictError(DomainError):
    code = "identity.id_number_bound_elsewhere"
    status_hint = 409


class InvalidGrantError(DomainError):
    code = "identity.invalid_grant"
    status_hint = 422


@dataclass(frozen=True)
class ExternalIdentity:
    """What the provincial identity platform says about the person (real-name verified)."""

    issuer: str
    subject: str
    name: str
    id_type: str
    id_number: str
    phone: str | None
    auth_level: int | None

    def __repr__(self) -> str:  # never print the ID number or phone, even in a traceback
        return f"ExternalIdentity(issuer={self.issuer!r}, subject={self.subject!r})"


@dataclass(frozen=True)
class Grant:
    role: str
    scope_type: str
    scope_id: str | None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InvalidGrantError(f"未知的角色：{self.role}", field="role")
        if self.scope_type not in SCOPE_TYPES:
            raise InvalidGrantError(f"未知的授权范围类型：{self.scope_type}", field="scope_type")
        if (self.scope_type == "global") != (self.scope_id is None):
            raise InvalidGrantError("全局授权不能指定范围编号，其他授权必须指定范围编号", field="scope_id")
        # An authority acts for a territory; province-wide is the province's code, never a global grant.
        if self.role == "authority" and self.scope_type != "region":
            raise InvalidGrantError("授权管理单位的授权须限定行政区域（全省即省级区划代码）", field="scope_type")


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class SessionState:
    id: UUID
    user_id: UUID
    created_at: datetime
    last_seen_at: datetime
    absolute_expires_at: datetime
    ended_at: datetime | None

    def end_reason_at(self, now: datetime, policy: SessionPolicy) -> str | None:
        """Why the session can no longer be used at `now` (None while it is alive)."""
        if self.ended_at is not None:
            return "ended"
        if now >= self.absolute_expires_at:
            return "absolute_timeout"
        if now - self.last_seen_at >= policy.idle:
            return "idle_timeout"
        return None


@dataclass(frozen=True)
class UserRecord:
    id: UUID
    issuer: str
    subject: str
    name: str
    id_type: str
    id_number_last4: str
    phone_enc: bytes | None
    auth_level: int | None


@dataclass(frozen=True)
class PendingLogin:
    nonce: str
    code_verifier: str
    return_to: str
