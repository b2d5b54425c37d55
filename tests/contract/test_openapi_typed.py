"""Issue 19: the merged OpenAPI document the web client is generated from (`web/openapi.json`, kept fresh by
`make test`) has no body a client could not know: every request body and every JSON success response has a
schema with its fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def _untyped(schema: dict[str, Any] | None, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a form could not be drawn from this schema: nothing said, or an object without its fields."""
    if not schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name not in seen and _untyped(components[name], components, seen | {name})
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return any(_untyped(s, components, seen) for s in schema[combined] if s.get("type") != "null")
    if schema.get("type") == "array":
        return _untyped(schema.get("items"), components, seen)
    if schema.get("type") == "object" or ("type" not in schema and "enum" not in schema and "const" not in schema):
        # a map (stage -> count) says what its values are
        return not schema.get("properties") and not isinstance(schema.get("additionalProperties"), dict)
    return False


def test_every_body_in_the_merged_document_has_its_fields() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    components = document["components"]["schemas"]
    requests, responses, untyped = 0, 0, []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for content_type, body in operation.get("requestBody", {}).get("content", {}).items():
                requests += 1
                if _untyped(body.get("schema"), components):
                    untyped.append(f"request {method.upper()} {path} ({content_type})")
            for status, answer in operation["responses"].items():
                for content_type, body in answer.get("content", {}).items():
                    if status.startswith("2") and "json" in content_type:
                        responses += 1
                        if _untyped(body.get("schema"), components):
                            untyped.append(f"response {status} {method.upper()} {path}")
    assert requests > 40 and responses > 90
    assert untyped == []


def test_every_upload_is_declared_as_multipart_form_data_with_a_file_part() -> None:
    """Browsers, Swagger UI and generated clients send a file as multipart/form-data: every route that takes a file
    (its summary says 上传) declares that, with one binary part named `file`."""
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    uploads = {
        f"{method.upper()} {path}": operation.get("requestBody", {}).get("content", {})
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "上传" in operation.get("summary", "") and method == "post"
    }
    assert len(uploads) >= 7, sorted(uploads)
    for route, content in uploads.items():
        form = content.get("multipart/form-data", {}).get("schema", {})
        assert form.get("required") == ["file"], route
        assert form["properties"]["file"] == {"type": "string", "format": "binary", "title": "文件"}, route
