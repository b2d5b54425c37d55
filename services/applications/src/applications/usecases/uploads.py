"""Use cases: what applications and personal records share about their files (zc_storage.keep_upload does
the storing)."""

from __future__ import annotations

from typing import Any

from zc_storage import StoredFile


def file_view(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(f["id"]),
        "kind": f["kind"],
        "material_name": f["material_name"],
        "section": f.get("section"),
        "entry_id": f.get("entry_id"),
        "filename": f["filename"],
        "content_type": f["content_type"],
        "size": f["size"],
        "sha256": f["sha256"],
    }


def file_row(
    stored: StoredFile,
    *,
    kind: str,
    filename: str,
    material: str | None = None,
    section: str | None = None,
    entry_id: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "material_name": material,
        "section": section,
        "entry_id": entry_id,
        "filename": filename[:200] or "未命名",
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_key": stored.key,
    }
