"""Auth library, FastAPI adapter: dependencies that turn the Bearer access token into a Principal."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zc_auth.principal import Principal, Role
from zc_auth.tokens import TokenVerifier
from zc_http.problems import ForbiddenProblem, UnauthorizedProblem

log = logging.getLogger("zc_auth.deps")

# RFC 6750 §2.1: the scheme is case-insensitive and the token is a b64token.
VERIFIED_PRINCIPAL = "zc_auth.principal"  # where AuthenticateBeforeBody leaves the caller in the request scope
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]+=*) *$", re.IGNORECASE)


class MissingTokenError(UnauthorizedProblem):
    """No usable `Authorization: Bearer` header was sent."""

    code = "auth.missing_token"

    def __init__(self, detail: str = "请先登录") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class RoleForbiddenError(ForbiddenProblem):
    """The caller is signed in but holds none of the roles the endpoint requires."""

    code = "auth.forbidden"

    def __init__(self, detail: str = "当前账号无权执行此操作") -> None:
        super().__init__(detail)


def _verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        # A wiring bug, not the caller's fault: fail loudly as a 500 rather than letting anyone in.
        raise RuntimeError("app.state.token_verifier is not a zc_auth.TokenVerifier")
    return verifier


# Declares the bearer scheme in OpenAPI (Swagger's "Authorize", the documented 401/403); the header itself is
# read below, with our own problem answers.
_BEARER_SCHEME = HTTPBearer(auto_error=False, description="统一身份认证后换取的访问令牌")


async def current_principal(
    request: Request, _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_SCHEME)] = None
) -> Principal:
    """The verified caller. Identity comes only from the signed token, never from headers like X-User-Id."""
    verified = request.scope.get("state", {}).get(VERIFIED_PRINCIPAL)  # AuthenticateBeforeBody verified it
    if isinstance(verified, Principal):
        return verified
    match = _BEARER.match(request.headers.get("authorization", ""))
    if match is None:
        raise MissingTokenError()
    return await _verifier(request).verify(match.group(1))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency yielding the caller if they hold any of `roles` (in any scope), else 403.

    Scope checks (which unit, which committee) belong in the use case, which knows the resource.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    wanted = frozenset(roles)

    async def dependency(principal: PrincipalDep) -> Principal:
        if not principal.has_any_role(*wanted):
            log.info(
                "access denied: missing role",
                extra={"subject": principal.subject, "required": sorted(r.value for r in wanted)},
            )
            raise RoleForbiddenError()
        return principal

    return dependency
