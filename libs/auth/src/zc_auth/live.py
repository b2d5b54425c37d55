"""Auth: a token verifier that also refuses tokens of sessions that have ended (fed by an event follower)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from zc_auth.revocation import SESSION_ENDED_SUBJECT, RevokedSessions
from zc_auth.tokens import HttpJwks, TokenVerifier

# Tokens live at most an hour, so an hour of ended sessions is all a new process must replay.
REVOCATION_LOOKBACK = timedelta(hours=1)


class _Envelope(Protocol):
    data: Mapping[str, Any]


class Follower(Protocol):
    def follow(self, subject: str, on_event: Callable[[Any], None], *, since: timedelta) -> None: ...


def live_session_verifier(*, issuer: str, audience: str, jwks_url: str, events: Follower) -> TokenVerifier:
    revoked = RevokedSessions()

    def on_session_ended(envelope: _Envelope) -> None:
        revoked.on_session_ended(envelope.data)

    events.follow(SESSION_ENDED_SUBJECT, on_session_ended, since=REVOCATION_LOOKBACK)
    return TokenVerifier(issuer=issuer, audience=audience, jwks=HttpJwks(jwks_url), revoked=revoked)
