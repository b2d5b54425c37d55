"""API: the certificates service's routes. Business routes arrive with issues #8."""

from __future__ import annotations

from fastapi import APIRouter

from zc_auth import PrincipalDep

router = APIRouter()


@router.get("/me", summary="当前登录用户")
async def me(principal: PrincipalDep) -> dict[str, object]:
    """Who the verified access token says is calling (used by the web client after login)."""
    return {
        "subject": principal.subject,
        "roles": sorted(
            {"role": g.role.value, "scope_type": g.scope_type.value, "scope_id": g.scope_id}.items()
            for g in principal.roles
        ),
    }
