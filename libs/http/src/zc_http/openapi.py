"""The error answers of every operation, in its OpenAPI document.

FastAPI documents a route's success and a 422 in its own shape; our errors are problem+json (RFC 9457) and
come from middleware (413, control characters), dependencies (401/403) and use cases (404/409/428). What a
route can answer is derived here from what the route *has*, so a new route is documented the day it is
added: a security requirement (its token or session check declares one) → 401/403, a path parameter → 404,
a body or a state change → 413, an `If-Match` header → 409/428,
anything at all → 503 (its database or NATS unavailable). A route adds what only it knows with FastAPI's
own `responses=` (e.g. 429 on a rate-limited check, 409 on a state change).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from zc_http.problems import _STATUS_TITLES, PROBLEM_JSON


class ProblemField(BaseModel):
    field: str = Field(title="字段")
    reason: str = Field(title="原因")


class Problem(BaseModel):
    """RFC 9457 problem details, with the field at fault and a Chinese reason for the user."""

    type: str = Field(title="问题类型")
    title: str = Field(title="标题")
    status: int = Field(title="HTTP 状态码")
    detail: str = Field(title="说明")
    instance: str | None = Field(default=None, title="请求路径")
    code: str = Field(title="错误代码")
    field: str | None = Field(default=None, title="出错字段")
    errors: list[ProblemField] | None = Field(default=None, title="各字段的错误")
    trace_id: str | None = None
    request_id: str | None = None


_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}
_SAFE = frozenset({"get", "head", "options"})


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    """One `responses=` entry for a route: `responses={429: problem(429, "查询过于频繁")}`."""
    return {"description": description or _STATUS_TITLES.get(status, "请求失败"), "content": {PROBLEM_JSON: {}}}


def _statuses(method: str, operation: dict[str, Any]) -> dict[int, str]:
    places = {(p.get("in"), str(p.get("name", "")).lower()) for p in operation.get("parameters", [])}
    found: dict[int, str] = {503: "服务依赖的数据库或消息服务暂不可用"}
    if places or "requestBody" in operation:
        found[422] = "提交的内容不符合要求（出错字段及原因）"
    if operation.get("security"):
        found[401] = "未登录或登录已失效"
        found[403] = "当前账号无权执行此操作"
    if any(where == "path" for where, _ in places):
        found[404] = "资源不存在或无权查看"
    if "requestBody" in operation or method not in _SAFE:
        found[413] = "请求内容过大"
    if ("header", "if-match") in places:
        found[409] = "版本冲突：内容已被修改"
        found[428] = "请求须带 If-Match（当前版本号）"
    return found


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` declare each operation's problem answers (see the module's docstring)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components["ProblemField"] = components["Problem"].pop("$defs")["ProblemField"]
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for status, description in _statuses(method, operation).items():
                    declared = responses.setdefault(str(status), {"description": description})
                    if declared["description"] == "Validation Error":  # FastAPI's own 422
                        declared["description"] = description
                for status, response in responses.items():
                    if status[0] in "45":  # every error is problem+json, whoever declared it
                        response["content"] = {PROBLEM_JSON: {"schema": _SCHEMA_REF}}
                operation["responses"] = dict(sorted(responses.items()))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
