"""The one OpenAPI document the web client is generated from: the four services' documents merged.

Each service's app is built (not started: no database, no NATS) and asked for its document. Paths are already
distinct (`/api/<service>/…`). A component two services both define is kept once when the schemas are the same
(`Problem`), and otherwise renamed `<Service><Name>` in the service that brings it, with its references.

`python -m zc_devstack openapi` writes `web/openapi.json`; `--check` fails when it is stale (make test).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from zc_devstack.stack import REPO, SERVICES

TARGET = REPO / "web" / "openapi.json"


def service_document(package: str) -> dict[str, Any]:
    settings = importlib.import_module(f"{package}.settings").Settings
    app = importlib.import_module(f"{package}.main").create_app(settings.model_construct())
    return dict(app.openapi())


def _renamed(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            return {**node, "$ref": f"#/components/schemas/{renames.get(name, name)}"}
        return {key: _renamed(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item, renames) for item in node]
    return node


def merged() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security: dict[str, Any] = {}
    for svc in SERVICES:
        document = service_document(svc.package)
        own = document.get("components", {}).get("schemas", {})
        prefix = "".join(part.title() for part in svc.prefix.split("_"))
        renames = {name: f"{prefix}{name}" for name, schema in own.items() if schemas.get(name, schema) != schema}
        document = _renamed(document, renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[name] = schema
        security.update(document.get("components", {}).get("securitySchemes", {}))
        for path, item in document["paths"].items():
            if path.endswith(("/healthz", "/readyz")):
                continue  # for probes, not for the client
            for operation in item.values():
                operation.setdefault("tags", []).insert(0, svc.prefix)
            paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "职称评审管理系统 API", "version": "0.1.0"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": security},
    }


def render() -> str:
    return json.dumps(merged(), ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def export(check: bool, target: Path = TARGET) -> int:
    text = render()
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{target.relative_to(REPO)} is stale: run `make schemas` and commit it\n")
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {target.relative_to(REPO)}\n")
    return 0
