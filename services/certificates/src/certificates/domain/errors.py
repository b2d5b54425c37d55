"""Domain: the errors business rules raise; each has a stable code and a Chinese message for the user."""

from __future__ import annotations


class DomainError(Exception):
    code: str = "certificates.error"
    status_hint: int = 400  # the API layer maps it to an HTTP status

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    code = "certificates.not_found"
    status_hint = 404


class StateError(DomainError):
    code = "certificates.state"
    status_hint = 409


class TooManyRequestsError(DomainError):
    code = "certificates.too_many_requests"
    status_hint = 429


class HolderUnavailableError(DomainError):
    """The identity bridge did not answer who holds the certificate; issuance is retried later."""

    code = "certificates.holder_unavailable"
    status_hint = 503


class FileRejectedError(DomainError):
    code = "attachment.rejected"
    status_hint = 422


class FileTooLargeError(DomainError):
    code = "attachment.too_large"
    status_hint = 413


class SourceUnavailableError(DomainError):
    """A government data source (社保) did not answer; what was saved stays saved."""

    code = "external.unavailable"
    status_hint = 503


class DirectoryUnavailableError(DomainError):
    """The applications service did not answer which committee a 证书核验 names."""

    code = "certificates.directory_unavailable"
    status_hint = 503
