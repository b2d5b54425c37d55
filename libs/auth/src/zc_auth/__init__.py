"""Auth library: verify identity-bridge access tokens and hand FastAPI services the calling Principal."""

from zc_auth.deps import MissingTokenError, PrincipalDep, RoleForbiddenError, current_principal, require_role
from zc_auth.middleware import AuthenticateBeforeBody
from zc_auth.principal import Principal, Role, RoleGrant, ScopeType, region_covers, region_prefix
from zc_auth.revocation import RevokedSessions
from zc_auth.tokens import (
    DEFAULT_ALGORITHMS,
    HttpJwks,
    InvalidTokenError,
    JwksSource,
    JwksUnavailableError,
    StaticJwks,
    TokenVerifier,
    parse_jwks,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "AuthenticateBeforeBody",
    "HttpJwks",
    "InvalidTokenError",
    "JwksSource",
    "JwksUnavailableError",
    "MissingTokenError",
    "Principal",
    "PrincipalDep",
    "RevokedSessions",
    "Role",
    "RoleForbiddenError",
    "RoleGrant",
    "ScopeType",
    "StaticJwks",
    "TokenVerifier",
    "current_principal",
    "parse_jwks",
    "region_covers",
    "region_prefix",
    "require_role",
]
