"""HTTP layer shared by the services: app factory, problem+json errors, health/readiness, request ids."""

from zc_http.app import (
    ReadinessCheck,
    RequestIdMiddleware,
    ServiceContainer,
    app_state,
    container_lifespan,
    container_readiness,
    create_service_app,
    health_router,
    serve_api,
)
from zc_http.clock import configured_clock
from zc_http.drafts import FORM, draft_of
from zc_http.files import UPLOAD_CEILING_BYTES, content_disposition, file_download, refuse_declared_oversize
from zc_http.limits import JSON_BODY_LIMIT, BodyLimitMiddleware, ControlCharacterMiddleware
from zc_http.openapi import Problem, document_problems, problem
from zc_http.problems import (
    ConflictProblem,
    ForbiddenProblem,
    NotFoundProblem,
    ProblemError,
    ServiceUnavailableProblem,
    UnauthorizedProblem,
    install_problem_handlers,
    problem_from_domain_error,
    problem_response,
)
from zc_http.responses import IsoDateTime, Paged, PageNumber, PageSize
from zc_http.settings import SettingsError, load_settings
from zc_http.uploads import Upload, received_file, upload_body
from zc_http.versions import if_match_version, required_version

__all__ = [
    "FORM",
    "JSON_BODY_LIMIT",
    "UPLOAD_CEILING_BYTES",
    "BodyLimitMiddleware",
    "ConflictProblem",
    "ControlCharacterMiddleware",
    "ForbiddenProblem",
    "IsoDateTime",
    "NotFoundProblem",
    "PageNumber",
    "PageSize",
    "Paged",
    "Problem",
    "ProblemError",
    "ReadinessCheck",
    "RequestIdMiddleware",
    "ServiceContainer",
    "ServiceUnavailableProblem",
    "SettingsError",
    "UnauthorizedProblem",
    "Upload",
    "app_state",
    "configured_clock",
    "container_lifespan",
    "container_readiness",
    "content_disposition",
    "create_service_app",
    "document_problems",
    "draft_of",
    "file_download",
    "health_router",
    "if_match_version",
    "install_problem_handlers",
    "load_settings",
    "problem",
    "problem_from_domain_error",
    "problem_response",
    "received_file",
    "refuse_declared_oversize",
    "required_version",
    "serve_api",
    "upload_body",
]
