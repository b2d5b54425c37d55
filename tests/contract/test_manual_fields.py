"""Issue 19, "Typed API": a form can be drawn from the schema alone. Every field the manual's screens show
(manual_fields.py: label, "0 / N" counter, star, select) is a property of its section's schema in the merged
OpenAPI document the web client is generated from (web/openapi.json, kept fresh by `make test`), with that
title, that maxLength, that required-ness and, for a select, its options."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from contract.manual_fields import EXCEPTIONS, MANUAL_FIELDS, ManualField

from applications.api.record_schemas import RECORD_MODELS

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "web" / "openapi.json"
MANUAL = REPO.parent / "shared" / "seed" / "personal-manual.zh.txt"
PREFIX = "/api/applications"


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The object or value schema behind a $ref, an array's items, or an optional's non-null branch."""
    components = _document()["components"]["schemas"]
    while True:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        elif schema.get("type") == "array" and "items" in schema:
            schema = schema["items"]
        elif "anyOf" in schema:
            (schema,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        else:
            return schema


def _body(path: str) -> dict[str, Any]:
    return _resolve(_document()["paths"][PREFIX + path]["put"]["requestBody"]["content"]["application/json"]["schema"])


def _section(section: str) -> tuple[dict[str, Any], set[str]]:
    """A section's (or a sub-table's, or a record kind's) properties and required names."""
    name, _, sub_table = section.partition(".")
    if name in RECORD_MODELS:
        # the route's body is a draft (暂存: nothing required); the full model decides at submission
        schema = _body(f"/records/{name}/{{rec_id}}")
        return schema["properties"], set(RECORD_MODELS[name].model_json_schema().get("required", []))
    schema = _body(f"/applications/{{app_id}}/sections/{name}")
    if sub_table:
        schema = _resolve(schema["properties"][sub_table])
    return schema["properties"], set(schema.get("required", []))


def _differences(row: ManualField) -> list[str]:
    excepted = EXCEPTIONS.get((row.section, row.label))
    properties, required = _section(row.section)
    title = excepted.title if excepted and excepted.title else row.label
    named = [name for name, prop in properties.items() if prop.get("title") == title]
    where = f"{row.section} {row.label} (line {row.line})"
    if excepted and excepted.absent:
        return [f"{where}: excepted as absent, but the schema has it"] if named else []
    if len(named) != 1:
        return [f"{where}: {len(named)} properties titled {title}"]
    (name,) = named
    prop = _resolve(properties[name])
    found = []
    if row.max_length is not None and prop.get("maxLength") != row.max_length:
        found.append(f"{where}: maxLength {prop.get('maxLength')}, the manual says {row.max_length}")
    if row.required is not None and not (excepted and excepted.optional) and (name in required) != row.required:
        found.append(f"{where}: required {name in required}, the manual says {row.required}")
    if row.choice and not (excepted and excepted.free_text) and "enum" not in prop and prop.get("type") != "boolean":
        found.append(f"{where}: a select in the manual, but the schema gives no options")
    return found


def test_every_field_of_the_manual_is_in_its_section_schema_as_the_manual_shows_it() -> None:
    differences = [d for row in MANUAL_FIELDS for d in _differences(row)]
    assert differences == []


def test_the_table_covers_the_sections_the_manual_shows() -> None:
    sections = {row.section for row in MANUAL_FIELDS}
    assert sections == {
        "basic_info", "education", "qualifications", "work_history", "achievements", "social_groups",
        "continuing_education", "assessments", "teacher_info", "teacher_info.moral_education", "health_info",
        "health_info.honours", "out_of_province",
    }  # fmt: skip
    assert len(MANUAL_FIELDS) == 175
    assert sum(1 for row in MANUAL_FIELDS if row.required) == 60


def test_every_exception_is_for_a_field_of_the_table_and_says_why() -> None:
    keys = {(row.section, row.label) for row in MANUAL_FIELDS}
    assert set(EXCEPTIONS) <= keys
    assert all(e.reason and (e.title or e.absent or e.optional or e.free_text) for e in EXCEPTIONS.values())


@pytest.mark.skipif(not MANUAL.exists(), reason="the manual (shared/seed) is not beside this checkout")
def test_the_table_says_what_the_manual_lines_say() -> None:
    """Each row's line has its label; the star, the counter and the select marker after it are as the row says."""
    lines = MANUAL.read_text(encoding="utf-8").splitlines()
    labels_by_line: dict[int, list[str]] = {}
    for row in MANUAL_FIELDS:
        labels_by_line.setdefault(row.line, []).append(row.label)
    wrong = []
    for row in MANUAL_FIELDS:
        line = lines[row.line - 1]
        at = line.find(row.label)
        if at < 0:
            wrong.append(f"{row.label}: not on line {row.line}")
            continue
        # what follows the label, up to the next star or the next label of the same line
        rest = line[at + len(row.label) :]
        ends = [rest.find("*")] + [rest.find(other) for other in labels_by_line[row.line] if row.label not in other]
        rest = rest[: min([e for e in ends if e > 0], default=len(rest))]
        counter = re.search(r"(\d+)\s*/\s*(\d+)", rest)
        if (int(counter.group(2)) if counter else None) != row.max_length:
            wrong.append(f"{row.label} (line {row.line}): counter {counter and counter.group(0)}")
        starred = line[:at].rstrip().endswith("*")
        if row.required is not None and starred != row.required:
            wrong.append(f"{row.label} (line {row.line}): star {starred}")
        if row.choice and not re.search(r"请选择(?!日期)|dropdown", rest):
            wrong.append(f"{row.label} (line {row.line}): no select marker")
    assert wrong == []


@pytest.mark.parametrize(
    ("section", "title"),
    [
        ("basic_info", "国籍"),
        ("basic_info", "民族"),
        ("basic_info", "政治面貌"),
        ("basic_info", "行政职务级别"),
        ("basic_info", "性别"),
        ("education", "学历"),
        ("education", "学位"),
        ("education", "学制"),
        ("qualifications", "现职称级别"),
        ("assessments", "考核结果"),
        ("teacher_info.moral_education", "考核结果"),
        ("out_of_province", "最高学历"),
        ("talent_stats", "最高学历"),
        ("talent_stats", "职称级别"),
    ],
)
def test_dropdowns_are_enumerations(section: str, title: str) -> None:
    """Issue 19 item 6: a web form draws a select from the `enum`."""
    properties, _ = _section(section)
    (prop,) = [_resolve(p) for p in properties.values() if p.get("title") == title]
    assert len(prop["enum"]) >= 2


def test_the_paper_forms_stars_are_what_the_save_requires_of_a_paper() -> None:
    """The 论文著作 stars the schema cannot require (one body serves every form) are exactly the fields the save
    requires of an entry under a paper-form clause."""
    from contract.manual_fields import ACHIEVEMENT_PAPER

    from applications.domain.achievements import FORMS, LABELS

    starred_but_optional = {
        f.label
        for f in ACHIEVEMENT_PAPER
        if f.required
        and EXCEPTIONS.get((f.section, f.label), None) is not None
        and EXCEPTIONS[(f.section, f.label)].optional
    }
    assert starred_but_optional == {LABELS[field] for field in FORMS["paper"][1]}
