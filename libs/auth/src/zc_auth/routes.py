"""Auth: the `GET /me` route every service that verifies tokens offers (the web client asks it after login)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from zc_auth.deps import PrincipalDep
from zc_auth.principal import Role, ScopeType


class WhoAmIGrant(BaseModel):
    """One role the token grants, and where it applies."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(title="角色")
    scope_type: ScopeType = Field(title="授权范围类型")
    scope_id: str | None = Field(
        title="授权范围", description="单位、主管部门、评委会的标识或行政区划代码；全局授权为空"
    )


class WhoAmI(BaseModel):
    """当前登录用户: who the verified access token says is calling."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(description="用户标识")
    roles: list[WhoAmIGrant] = Field(title="角色")


def whoami_router() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.get("/me", summary="当前登录用户", response_model=WhoAmI)
    async def me(principal: PrincipalDep) -> dict[str, object]:
        """Who the verified access token says is calling."""
        grants = sorted(principal.roles, key=lambda g: (g.role.value, g.scope_type.value, g.scope_id or ""))
        return {
            "subject": principal.subject,
            "roles": [{"role": g.role.value, "scope_type": g.scope_type.value, "scope_id": g.scope_id} for g in grants],
        }

    return router
