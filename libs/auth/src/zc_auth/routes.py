"""Auth: the `GET /me` route every service that verifies tokens offers (the web client asks it after login)."""

from __future__ import annotations

from fastapi import APIRouter

from zc_auth.deps import PrincipalDep


def whoami_router() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.get("/me", summary="当前登录用户")
    async def me(principal: PrincipalDep) -> dict[str, object]:
        """Who the verified access token says is calling."""
        grants = sorted(principal.roles, key=lambda g: (g.role.value, g.scope_type.value, g.scope_id or ""))
        return {
            "subject": principal.subject,
            "roles": [{"role": g.role.value, "scope_type": g.scope_type.value, "scope_id": g.scope_id} for g in grants],
        }

    return router
