"""Domain: the files that belong to one entry of a section — the manual's "附件信息 + 上传附件" under 学历 (学历证、
学位证), 资历, every 业绩成果 form, 继续教育 and the 思政经历 rows of 中小学教师信息 — and to the named
"附件材料" slots of 中小学教师信息 and 卫生技术信息. An entry is known by the id the server gives it on save; when
an entry goes, its files go with it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from applications.domain.errors import DomainError

# list sections whose every entry may carry files
ENTRY_SECTIONS = frozenset({"education", "qualifications", "achievements", "continuing_education"})
# sub-tables of a one-object section whose rows carry ids (only 思政经历 takes files; the others keep ids so an
# edited row stays the same row)
ROW_TABLES = {"teacher_info": ("moral_education", "demonstration_lessons", "rural_service", "mentoring")}
FILE_ROWS = {"teacher_info": ("moral_education",)}
# the "附件材料" beside a field of a one-object section
SLOTS = {
    "waiver": {"proof": "破格证明材料"},
    "teacher_info": {"teacher_certificate": "教师资格证证明材料"},
    "health_info": {
        "work_report": "专业技术工作报告",
        "exceptional": "破格证明材料",
        "paired_support": "对口支援证明材料",
        "recommendation_letter": "一线医务人员职称申报推荐函",
    },
}
ENTRY_FILE_MAX_MB = 10
ENTRY_FILE_MAX_COUNT = 10  # per entry
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class EntryError(DomainError):
    code = "application.invalid"
    status_hint = 422


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _give_ids(rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows):
        rid = row.get("id") or _new_id()
        if rid in seen:
            raise EntryError("同一信息项中的条目编号不能重复", field=f"{field}{i}.id")
        seen.add(rid)
        out.append({**row, "id": rid})
    return out


def with_entry_ids(section: str, content: Any) -> Any:
    """The section as saved: every entry that may carry files has an id (an entry sent without one is new)."""
    if section in ENTRY_SECTIONS and isinstance(content, list):
        return _give_ids(content, "")
    tables = ROW_TABLES.get(section)
    if tables and isinstance(content, dict):
        return {
            **content,
            **{t: _give_ids(content.get(t) or [], f"{t}.") for t in tables if t in content},
        }
    return content


def file_targets(section: str, content: Any) -> set[str]:
    """The entry ids (and slot names) of this section that files may belong to now."""
    if section in ENTRY_SECTIONS:
        return {str(e["id"]) for e in content or [] if isinstance(e, dict) and e.get("id")}
    targets = set(SLOTS.get(section, {})) if content else set()
    for table in FILE_ROWS.get(section, ()):
        targets |= {str(r["id"]) for r in (content or {}).get(table) or [] if r.get("id")}
    return targets


def may_carry_files(section: str) -> bool:
    return section in ENTRY_SECTIONS or section in SLOTS


def check_target(section: str, entry_id: str, content: Any) -> None:
    """An upload names an entry that exists (saved first) or a slot of the section."""
    if not may_carry_files(section):
        raise EntryError("该信息项不能上传附件", field="section")
    if not _ID.match(entry_id) or entry_id not in file_targets(section, content):
        raise EntryError("请先保存该条目，再上传附件", field="entry_id")


def entry_label(section: str, entry_id: str) -> str | None:
    """A slot's Chinese name (the file's `material_name`); rows and entries have none."""
    return SLOTS.get(section, {}).get(entry_id)
