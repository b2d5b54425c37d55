"""Domain: the errors business rules raise; each has a stable code and a Chinese message for the user."""

from __future__ import annotations


class DomainError(Exception):
    code: str = "review.error"
    status_hint: int = 400  # the API layer maps it to an HTTP status

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
