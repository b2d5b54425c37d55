"""API: the certificates service's routes (business routes arrive with their issues)."""

from __future__ import annotations

from fastapi import APIRouter

from zc_auth.routes import whoami_router

router = APIRouter()
router.include_router(whoami_router())
