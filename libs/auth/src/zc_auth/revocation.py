"""Auth: sessions that ended before their tokens expired; the verifier rejects their tokens.

Fed by the identity bridge's `identity.session.ended.v1` events (see zc_messaging.follow_subject). An entry
only needs to live until the last token of that session would have expired anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

SESSION_ENDED_SUBJECT = "identity.session.ended.v1"


class RevokedSessions:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock

    def revoke(self, session_id: str, until: datetime) -> None:
        self._until[session_id] = max(until.timestamp(), self._until.get(session_id, 0.0))

    def on_session_ended(self, data: Mapping[str, Any]) -> None:
        """Apply the data of an `identity.session.ended.v1` event."""
        self.revoke(str(data["session_id"]), datetime.fromisoformat(str(data["tokens_valid_until"])))

    def is_revoked(self, session_id: str) -> bool:
        now = self._clock()
        if len(self._until) > 1024:  # drop entries whose tokens are expired anyway
            self._until = {sid: t for sid, t in self._until.items() if t > now}
        until = self._until.get(session_id)
        return until is not None and until > now

    def __len__(self) -> int:
        return len(self._until)
