"""API: the identity bridge's routes. Login, sessions and token minting arrive with issue #3."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

router = APIRouter()


@router.get("/.well-known/jwks.json", summary="令牌签名公钥")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    """Public keys that every service uses to verify the access tokens this bridge mints."""
    response.headers["Cache-Control"] = "public, max-age=300"
    result: dict[str, Any] = request.app.state.container.signing_keys.jwks
    return result
