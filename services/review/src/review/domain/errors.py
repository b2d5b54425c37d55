"""Domain: the errors business rules raise; each has a stable code and a Chinese message for the user."""

from __future__ import annotations


class DomainError(Exception):
    code: str = "review.error"
    status_hint: int = 400  # the API layer maps it to an HTTP status

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    code = "review.not_found"
    status_hint = 404


class ForbiddenError(DomainError):
    code = "review.forbidden"
    status_hint = 403


class TaskConflictError(DomainError):
    """Someone else completed (or claimed) the task first, or the instance moved on."""

    code = "review.task_conflict"
    status_hint = 409


class DecisionNotAllowedError(DomainError):
    code = "review.decision_not_allowed"
    status_hint = 422


class InstanceStateError(DomainError):
    code = "review.instance_state"
    status_hint = 409


class ProcessNotDeployedError(DomainError):
    code = "review.process_not_deployed"
    status_hint = 503


class DirectoryUnavailableError(DomainError):
    """The identity bridge did not answer who holds a role: the decision waits (nothing was changed)."""

    code = "review.directory_unavailable"
    status_hint = 503
