"""HTTP layer: RFC 9457 problem+json errors with a stable `code`, the offending field and a Chinese reason."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from zc_telemetry import current_trace_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://zhicheng.dev/problems/"

log = logging.getLogger("zc_http.problems")


class ProblemError(Exception):
    """An error that renders as problem+json; raise it (or a subclass) from the API layer.

    Domain errors stay framework-free: services map them with `register_problem(...)`.
    `detail` is shown to the user, so it is written in Chinese.
    """

    status: int = 400
    code: str = "bad_request"
    title: str = "请求有误"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if title is not None:
            self.title = title
        self.field = field
        self.headers = dict(headers or {})


class NotFoundProblem(ProblemError):
    status, code, title = 404, "not_found", "资源不存在"


class ConflictProblem(ProblemError):
    status, code, title = 409, "conflict", "状态冲突"


class UnauthorizedProblem(ProblemError):
    status, code, title = 401, "unauthenticated", "未登录或登录已过期"


class ForbiddenProblem(ProblemError):
    status, code, title = 403, "forbidden", "无权访问"


class ServiceUnavailableProblem(ProblemError):
    status, code, title = 503, "unavailable", "服务暂不可用"


# exception type -> function building a ProblemError from it; used for domain errors.
ProblemMapper = Callable[[Exception], ProblemError]


def problem_from_domain_error(exc: Exception) -> ProblemError:
    """Services' domain errors carry `message`, `status_hint`, `code` and `field` (and know no HTTP)."""
    return ProblemError(
        str(getattr(exc, "message", exc)),
        status=int(getattr(exc, "status_hint", 400)),
        code=str(getattr(exc, "code", "domain_error")),
        field=getattr(exc, "field", None),
    )


_STATUS_TITLES = {
    400: "请求有误",
    401: "未登录或登录已过期",
    403: "无权访问",
    404: "资源不存在",
    405: "不支持的请求方法",
    409: "状态冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "提交的内容不符合要求",
    429: "请求过于频繁",
    500: "系统内部错误",
    503: "服务暂不可用",
}

# Pydantic error types -> Chinese reasons shown to the user.
_VALIDATION_REASONS = {
    "missing": "必填项不能为空",
    "string_too_long": "长度不能超过{max_length}个字符",
    "string_too_short": "长度不能少于{min_length}个字符",
    "too_long": "数量不能超过{max_length}项",
    "too_short": "数量不能少于{min_length}项",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是或否",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "uuid_parsing": "编号格式不正确",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "不能小于{ge}",
    "less_than_equal": "不能大于{le}",
    "greater_than": "必须大于{gt}",
    "less_than": "必须小于{lt}",
    "json_invalid": "请求内容不是有效的 JSON",
    "model_attributes_type": "请求内容格式不正确",
    "dict_type": "请求内容格式不正确",
    "list_type": "应为列表",
    "extra_forbidden": "不允许的字段",
    "value_error": "{message}",
}


def _reason(err: Mapping[str, Any]) -> str:
    template = _VALIDATION_REASONS.get(str(err.get("type")))
    ctx = dict(err.get("ctx") or {})
    if template is None:
        return "内容不符合要求"
    if "{message}" in template:
        # our own validators raise ValueError with a Chinese message
        msg = str(ctx.get("error", err.get("msg", "")))
        return msg.removeprefix("Value error, ") or "内容不符合要求"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip() or "内容不符合要求"


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace(".", "/"),
        "title": title or _STATUS_TITLES.get(status, "请求失败"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


RETRY_AFTER_SECONDS = 5
_UNPARSABLE_BODY = "There was an error parsing the body"


def _driver_connection_errors() -> tuple[type[Exception], ...]:
    try:  # the PostgreSQL driver of every service; the HTTP layer does not require it
        from asyncpg import CannotConnectNowError, PostgresConnectionError  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover
        return ()
    return (PostgresConnectionError, CannotConnectNowError)


def _is_unavailable(exc: BaseException) -> bool:
    """A dependency that cannot be reached, found through the wrappers: a refused or reset connection, a timeout,
    the driver's connection errors, or SQLSTATE class 08 (connection) / 57P01-57P03 (shut down, starting up)."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, (ConnectionError, TimeoutError, *_driver_connection_errors())):
            return True
        if getattr(seen, "connection_invalidated", False):  # SQLAlchemy: the connection was lost mid-statement
            return True
        sqlstate = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def _is_data_exception(exc: BaseException) -> bool:
    """A database "data exception" (SQLSTATE class 22) or a driver refusing a parameter's value (asyncpg's
    DataError, e.g. "value out of int32 range"), found through the wrappers (SQLAlchemy's `orig`, causes)."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        sqlstate = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
        if type(seen).__name__ == "DataError" and type(seen).__module__.startswith("asyncpg"):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def render_problem(request: Request, exc: ProblemError) -> JSONResponse:
    """The response a ProblemError stands for (its field, if any, named in the body)."""
    extra = {"field": exc.field} if exc.field else None
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        extra=extra,
        headers=exc.headers,
    )


def install_problem_handlers(app: FastAPI, mappers: Mapping[type[Exception], ProblemMapper] | None = None) -> None:
    """Render every error as problem+json. `mappers` turn a service's domain errors into problems."""
    registry = dict(mappers or {})

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return render_problem(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"field": _field_path(e.get("loc", ())), "reason": _reason(e)} for e in exc.errors()]
        first = errors[0] if errors else {"field": "", "reason": "内容不符合要求"}
        detail = f"{first['field']}：{first['reason']}" if first["field"] else first["reason"]
        return problem_response(
            request,
            status=422,
            code="validation_failed",
            detail=detail,
            extra={"field": first["field"], "errors": errors},
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        if status == 400 and exc.detail == _UNPARSABLE_BODY:  # FastAPI's answer to a body not in UTF-8
            reason = "请求内容无法解析（应为 UTF-8 编码的 JSON）"
            return problem_response(
                request,
                status=422,
                code="validation_failed",
                detail=f"body：{reason}",
                extra={"field": "body", "errors": [{"field": "body", "reason": reason}]},
            )
        detail = exc.detail if isinstance(exc.detail, str) and status != 404 else _STATUS_TITLES.get(status, "")
        if status == 404:
            detail = "请求的地址不存在"
        elif status == 405:
            detail = "该地址不支持此请求方法"
        return problem_response(
            request,
            status=status,
            code=f"http_{status}",
            detail=str(detail),
            headers=getattr(exc, "headers", None),
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        for exc_type, mapper in registry.items():
            if isinstance(exc, exc_type):
                return await on_problem(request, mapper(exc))
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(request, status=500, code="internal_error", detail="系统繁忙，请稍后再试")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for exc_type in registry:
        app.add_exception_handler(exc_type, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # the database or broker cannot be reached (stopped, restarting, a failover): the client should retry
        log.warning("a dependency is unavailable", extra={"path": request.url.path, "error": repr(exc)[:200]})
        return problem_response(
            request,
            status=503,
            code="unavailable",
            detail="服务依赖的数据库或消息服务暂不可用，请稍后再试",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def on_dependency_error(request: Request, exc: Exception) -> JSONResponse:
        """A connection or database error: unavailable (503), the client's input (422), else unexpected."""
        if _is_unavailable(exc):
            return await on_unavailable(request, exc)
        if not _is_data_exception(exc):
            return await on_unexpected(request, exc)
        # what a route's model let through but PostgreSQL refused (the safety net: NULs in paths, queries and JSON
        # bodies are refused earlier, with their field): a NUL in a form field, a number beyond its column's
        # range. The client's input, so a 422; the transaction was rolled back.
        log.warning("input refused by the database", extra={"path": request.url.path, "error": str(exc)[:200]})
        return problem_response(
            request,
            status=422,
            code="invalid_input",
            detail="提交的内容含有无法保存的字符（如空字符 \\u0000）或超出范围的数值",
        )

    unreachable_types: tuple[type[Exception], ...] = (ConnectionError, TimeoutError, *_driver_connection_errors())
    for unreachable in unreachable_types:
        if unreachable not in registry:
            app.add_exception_handler(unreachable, on_dependency_error)
    try:  # services that use a database (all of ours) have SQLAlchemy; the HTTP layer does not require it
        from sqlalchemy.exc import DBAPIError
    except ImportError:  # pragma: no cover
        return
    if DBAPIError not in registry:
        app.add_exception_handler(DBAPIError, on_dependency_error)
