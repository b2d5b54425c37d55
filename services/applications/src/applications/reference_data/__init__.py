"""Reference data files of the applications service: the title catalog, the region tree, demo data, and the
个人操作说明 the portal offers for download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return data


def load_catalog_document() -> dict[str, Any]:
    return _load("catalog.json")


def load_demo_data() -> dict[str, Any]:
    return _load("demo_data.json")


def load_personal_guide() -> bytes:
    """个人操作说明 (Markdown, UTF-8), as the file is: served as a download."""
    return (DATA_DIR / "personal-guide.md").read_bytes()


def region_rows() -> list[dict[str, Any]]:
    """The region tree as rows, parents first, each with the path the manual shows (四川省/成都市/市(州)本级)."""
    rows: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], parent: dict[str, Any] | None) -> None:
        if "display_path" in node:
            path = node["display_path"]
        elif parent is None:
            path = node["name"]
        else:
            path = f"{parent['display_path']}/{node['name']}"
        row = {
            "code": node["code"],
            "name": node["name"],
            "kind": node["kind"],
            "parent_code": parent["code"] if parent else None,
            "display_path": path,
        }
        rows.append(row)
        for child in node.get("children", []):
            walk(child, row)

    for root in _load("regions.json")["regions"]:
        walk(root, None)
    return rows
