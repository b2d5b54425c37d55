"""API: request and response bodies of the identity bridge.

Response models forbid extra keys: a key a use case adds without a field here fails the tests instead of being
dropped silently. Titles are the labels a user sees."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from zc_http import IsoDateTime

RoleName = Literal[
    "applicant",
    "unit_reviewer",
    "department_reviewer",
    "committee_staff",
    "committee_organiser",
    "expert",
    "authority",
    "process_designer",
    "operator",
    "admin",
]
ScopeTypeName = Literal["global", "unit", "department", "committee", "region"]

RESPONSE = ConfigDict(extra="forbid")


# -- requests -------------------------------------------------------------------------------------------------


class GrantChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName
    scope_type: ScopeTypeName
    scope_id: str | None = Field(default=None, max_length=100)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audiences: list[str] | None = Field(default=None, max_length=10)


# -- responses ------------------------------------------------------------------------------------------------


class GrantedRole(BaseModel):
    """A role held, and where it applies (global: everywhere)."""

    model_config = RESPONSE

    role: RoleName = Field(title="角色")
    scope_type: ScopeTypeName = Field(title="授权范围类型")
    scope_id: str | None = Field(
        title="授权范围", description="单位、主管部门、评委会的标识或行政区划代码；全局授权为空"
    )


class SessionProfile(BaseModel):
    """当前登录信息, masked as the manual shows it (证件号码 *****5532)."""

    model_config = RESPONSE

    user_id: UUID
    name: str = Field(title="姓名（脱敏）")
    id_type: str = Field(title="证件类型")
    id_number: str = Field(title="证件号码（脱敏）")
    phone: str | None = Field(title="手机号码（脱敏）")
    auth_level: int | None = Field(title="实名认证级别")
    roles: list[GrantedRole] = Field(title="角色")
    session_expires_at: IsoDateTime = Field(title="登录有效期至")


class AccessToken(BaseModel):
    """An access token for the named services (audiences), minted from the session."""

    model_config = RESPONSE

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="有效期（秒）")


class LogoutResult(BaseModel):
    model_config = RESPONSE

    logout_url: str | None = Field(description="统一身份认证平台的退出地址（结束平台上的登录）；无则为空")


class Expert(BaseModel):
    model_config = RESPONSE

    user_id: UUID
    name: str = Field(title="姓名")


class ExpertList(BaseModel):
    """评审专家库: the experts of one committee's panel."""

    model_config = RESPONSE

    items: list[Expert] = Field(title="评审专家")


class UserRoles(BaseModel):
    """A user's roles, as an administrator sees and changes them."""

    model_config = RESPONSE

    user_id: UUID
    roles: list[GrantedRole] = Field(title="角色")


class Jwk(BaseModel):
    """A public key that verifies access tokens (RFC 7517; EC P-256, ES256)."""

    model_config = RESPONSE

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str = Field(description="密钥标识（RFC 7638 指纹）")
    alg: Literal["ES256"]
    use: Literal["sig"]


class Jwks(BaseModel):
    """The JWK set every service verifies access tokens with: the active key and the previous ones still valid."""

    model_config = RESPONSE

    keys: list[Jwk]
