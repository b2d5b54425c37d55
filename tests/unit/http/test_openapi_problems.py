"""What every operation declares in OpenAPI (issue 17): the problem answers it can give, as
application/problem+json, derived from what the route has — so the fuzzing's conformance checks hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header
from pydantic import BaseModel

from zc_auth import PrincipalDep
from zc_http import create_service_app, problem

router = APIRouter()


class Note(BaseModel):
    text: str


@router.get("/public")
async def public() -> dict[str, str]:
    return {}


@router.get("/notes/{note_id}")
async def read_note(note_id: int, _who: PrincipalDep) -> dict[str, str]:
    return {}


@router.put("/notes/{note_id}", responses={429: problem(429, "太频繁")})
async def save_note(
    note_id: int, body: Note, _who: PrincipalDep, if_match: Annotated[str | None, Header()] = None
) -> dict[str, str]:
    return {}


def _document() -> dict[str, Any]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    return create_service_app(title="t", prefix="/api/t", lifespan=lifespan, routers=[router]).openapi()


def test_each_operation_declares_the_problems_its_route_can_answer() -> None:
    paths = _document()["paths"]
    statuses = {
        (method, path): sorted(int(s) for s in op["responses"])
        for path, item in paths.items()
        for method, op in item.items()
        if "/notes" in path or path.endswith("/public")
    }
    assert statuses == {
        ("get", "/api/t/public"): [200, 503],
        ("get", "/api/t/notes/{note_id}"): [200, 401, 403, 404, 422, 503],
        ("put", "/api/t/notes/{note_id}"): [200, 401, 403, 404, 409, 413, 422, 428, 429, 503],
    }


def test_every_error_answer_is_problem_json_with_the_problem_schema() -> None:
    document = _document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "code"]
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
                    assert response["description"] and response["description"] != "Validation Error"


def test_the_bearer_scheme_is_declared_for_swagger_and_clients() -> None:
    document = _document()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/t/notes/{note_id}"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/api/t/public"]["get"]
