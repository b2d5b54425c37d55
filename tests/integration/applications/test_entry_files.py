"""Files of a section's entries (学历证, 论文, 继续教育 proofs …), uploads as multipart/form-data, 废弃 removing
what it removes, and 撤回 leading to 已撤回 under the first-submission deadline."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from applications.demo_data import load
from integration.applications.conftest import Api, grant
from integration.applications.test_application_lifecycle import (
    INITIAL,
    PDF,
    SECTIONS,
    UNIT,
    first_receiving_committee,
    save,
    settings,
)
from integration.applications.test_attachments import JPEG
from integration.applications.test_review_outcomes_and_messages import deliver
from zc_auth import Role, ScopeType
from zc_contracts import review_v1
from zc_devstack.demo_application import paper

TWO_DEGREES = [
    {**SECTIONS["education"][0]},
    {**SECTIONS["education"][0], "school": "四川农业大学", "degree_level": "硕士研究生", "degree": "硕士"},
]


def stored_files(root: Path) -> list[Path]:
    return [p for p in (root / "attachments").rglob("*") if p.is_file()]


async def entry_upload(api: Api, app_id: str, section: str, entry: str, body: bytes, name: str = "学位证.pdf") -> Any:
    return await api.post(
        f"/applications/{app_id}/sections/{section}/entries/{entry}/attachments",
        files={"file": (name, body, "application/pdf")},
        headers=api.applicant,
    )


async def upload_required_materials(api: Api, app_id: str, notice: dict[str, Any], headers: Any) -> None:
    """评委会需求材料 marked 必填, one PDF each."""
    for m in notice["required_materials"]:
        if m["required"]:
            r = await api.post(
                f"/applications/{app_id}/materials",
                params={"material": m["name"]},
                files={"file": ("m.pdf", PDF)},
                headers=headers,
            )
            assert r.status_code == 201, r.text


async def listed(api: Api, app_id: str) -> list[dict[str, Any]]:
    return list((await api.get(f"/applications/{app_id}/attachments", headers=api.applicant)).json()["items"])


@pytest.fixture
async def initial_draft(api: Api) -> tuple[Api, dict[str, Any]]:
    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    return api, app


async def test_entries_get_ids_and_their_files_go_with_them(initial_draft: tuple[Api, Any], tmp_path: Path) -> None:
    api, app = initial_draft
    saved = await save(api, app["id"], "education", TWO_DEGREES)
    assert saved.status_code == 200, saved.text
    first, second = saved.json()["content"]
    assert first["id"] and second["id"] and first["id"] != second["id"]

    up = await entry_upload(api, app["id"], "education", first["id"], PDF)
    assert up.status_code == 201, up.text
    assert (up.json()["section"], up.json()["entry_id"], up.json()["filename"]) == (
        "education",
        first["id"],
        "学位证.pdf",
    )
    # a scan of several MB: the upload ceiling applies, not the JSON body limit
    scan = PDF + b"0" * (3 * 1024 * 1024)
    big = await entry_upload(api, app["id"], "education", second["id"], scan, name="扫描件.pdf")
    assert big.status_code == 201 and big.json()["size"] == len(scan), big.text
    await api.client.delete(
        f"/api/applications/applications/{app['id']}/attachments/{big.json()['id']}", headers=api.applicant
    )
    kept = await entry_upload(api, app["id"], "education", second["id"], JPEG, name="学历证.jpg")
    assert kept.status_code == 201 and kept.json()["content_type"] == "image/jpeg"
    assert len(stored_files(tmp_path)) == 2
    one_entry = await api.get(
        f"/applications/{app['id']}/attachments",
        params={"section": "education", "entry_id": first["id"]},
        headers=api.applicant,
    )
    assert [f["filename"] for f in one_entry.json()["items"]] == ["学位证.pdf"]  # the entry's 附件信息 table

    # an entry not saved yet, a section without files, a foreign applicant: refused, nothing stored
    unknown = await entry_upload(api, app["id"], "education", "not-saved-yet", PDF)
    assert unknown.status_code == 422 and unknown.json()["field"] == "entry_id" and "先保存" in unknown.json()["detail"]
    no_files = await entry_upload(api, app["id"], "assessments", first["id"], PDF)
    assert no_files.status_code == 422
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    foreign = await api.post(
        f"/applications/{app['id']}/sections/education/entries/{first['id']}/attachments",
        files={"file": ("x.pdf", PDF, "application/pdf")},
        headers=stranger,
    )
    assert foreign.status_code == 404
    assert len(stored_files(tmp_path)) == 2

    # the ids come back with the next save; the entry left out takes its files with it (row and bytes)
    again = await save(api, app["id"], "education", [second], version=1)
    assert again.status_code == 200 and again.json()["content"] == [second]
    assert [(f["entry_id"], f["filename"]) for f in await listed(api, app["id"])] == [(second["id"], "学历证.jpg")]
    assert len(stored_files(tmp_path)) == 1
    got = await api.get(f"/applications/{app['id']}/attachments/{kept.json()['id']}", headers=api.applicant)
    assert got.status_code == 200 and got.content == JPEG


async def test_entry_files_are_frozen_at_submit_and_read_by_the_reviewer(
    initial_draft: tuple[Api, Any], tmp_path: Path, clean_jetstream: str
) -> None:
    api, app = initial_draft
    for name in ("basic_info", "work_history", "assessments"):
        assert (await save(api, app["id"], name, SECTIONS[name])).status_code == 200
    (entry,) = (await save(api, app["id"], "education", SECTIONS["education"])).json()["content"]
    proof = (await entry_upload(api, app["id"], "education", entry["id"], PDF)).json()
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 200

    unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    seen = (await api.get(f"/review/applications/{app['id']}", headers=unit)).json()
    assert [(f["section"], f["entry_id"]) for f in seen["attachments"]] == [("education", entry["id"])]
    assert seen["sections"]["education"][0]["id"] == entry["id"]
    path = f"/review/applications/{app['id']}/attachments/{proof['id']}"
    got = await api.get(path, headers=unit)
    assert got.status_code == 200 and got.content == PDF
    other_unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, "0193a1f0-0000-7000-8000-00000000a002"))
    assert (await api.get(path, headers=other_unit)).status_code == 404

    # returned, the applicant drops the entry: gone from the draft, but the submitted version still shows it
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationReturned(
            application_id=app["id"], reason="请补充学历", stage="unit", returned_at=datetime.now().astimezone()
        ),
    )
    assert (await save(api, app["id"], "education", [], version=1)).status_code == 200
    assert await listed(api, app["id"]) == []
    assert (await api.get(path, headers=unit)).content == PDF
    assert len(stored_files(tmp_path)) == 1


async def test_uploads_are_multipart_form_data_with_one_file_part(
    initial_draft: tuple[Api, Any], tmp_path: Path
) -> None:
    api, app = initial_draft
    url = f"/api/applications/applications/{app['id']}/photo"
    ok = await api.post(f"/applications/{app['id']}/photo", files={"file": ("证件照.jpg", JPEG)}, headers=api.applicant)
    assert ok.status_code == 201, ok.text
    assert (ok.json()["filename"], ok.json()["size"]) == ("证件照.jpg", len(JPEG))

    def multipart(parts: list[tuple[str, str, bytes]], end: bool = True) -> bytes:
        body = b"".join(
            b'--B\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n\r\n%s\r\n'
            % (n.encode(), f.encode(), c)
            for n, f, c in parts
        )
        return body + (b"--B--\r\n" if end else b"")

    headers = {**api.applicant, "Content-Type": "multipart/form-data; boundary=B"}
    cases = {
        "two files": multipart([("file", "a.jpg", JPEG), ("file", "b.jpg", JPEG)]),
        "another part": multipart([("note", "n.txt", b"hello")]),
        "cut short": multipart([("file", "a.jpg", JPEG)], end=False)[:-40],
        "no file": b"--B--\r\n",
    }
    for case, body in cases.items():
        r = await api.client.post(url, content=body, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == "file", (case, r.text)
    no_boundary = await api.client.post(
        url, content=JPEG, headers={**api.applicant, "Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 422

    # the size is counted while the parts stream in: an oversize photo is refused and nothing stays
    async def chunks() -> Any:
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n' + JPEG[:-2]
        for _ in range(80):
            yield b"\x00" * 8192
        yield b"\xff\xd9\r\n--B--\r\n"

    big = await api.client.post(url, content=chunks(), headers=headers)
    assert big.status_code == 413 and "500KB" in big.json()["detail"]
    assert [f["filename"] for f in await listed(api, app["id"])] == ["证件照.jpg"]
    assert len(stored_files(tmp_path)) == 1


async def test_abandon_deletes_the_application_information_and_every_file(api: Api, tmp_path: Path) -> None:
    await load(api.database_url, year=2026)
    committee_id, notice = await first_receiving_committee(api)
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee_id))).json()
    counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    (entry,) = (await save(api, app["id"], "achievements", [paper(counting["code"])])).json()["content"]
    assert (await entry_upload(api, app["id"], "achievements", entry["id"], PDF)).status_code == 201
    material = notice["required_materials"][0]["name"]
    up = await api.post(
        f"/applications/{app['id']}/materials",
        params={"material": material},
        files={"file": ("评审表.pdf", PDF)},
        headers=api.applicant,
    )
    assert up.status_code == 201, up.text
    assert (await save(api, app["id"], "education", SECTIONS["education"], headers=None)).status_code == 200
    assert len(stored_files(tmp_path)) == 2

    assert (await api.post(f"/applications/{app['id']}/abandon", headers=api.applicant)).status_code == 204
    gone = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert gone["status"] == "abandoned" and gone["sections"] == {}
    assert gone["trail"][-1]["action"] == "废弃"
    assert await listed(api, app["id"]) == []
    assert stored_files(tmp_path) == []
    assert (await api.get("/applications", headers=api.applicant)).json()["items"] == []
    # a new application of the same qualification may start again
    again = await api.post("/applications", headers=api.applicant, json=settings(committee_id))
    assert again.status_code == 201


async def test_withdrawn_reads_already_withdrawn_and_the_first_deadline_applies_again(
    api: Api, clean_jetstream: str
) -> None:
    await load(api.database_url, year=2026)
    committee_id, notice = await first_receiving_committee(api)
    apps = []
    counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    for who in (api.applicant, api.as_(Role.APPLICANT, subject="usr_applicant2")):
        app = (await api.post("/applications", headers=who, json=settings(committee_id))).json()
        for name in ("basic_info", "education", "work_history", "assessments"):
            await save(api, app["id"], name, SECTIONS[name], headers=who)
        await save(api, app["id"], "achievements", [paper(counting["code"])], headers=who)
        await upload_required_materials(api, app["id"], notice, who)
        r = await api.post(f"/applications/{app['id']}/submit", headers=who)
        assert r.status_code == 200, r.text
        apps.append((app["id"], who))
    (withdrawn, first), (returned, second) = apps
    now = datetime.now().astimezone()
    await deliver(api, clean_jetstream, review_v1.ApplicationWithdrawn(application_id=withdrawn, withdrawn_at=now))
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationReturned(application_id=returned, reason="请补充", stage="unit", returned_at=now),
    )
    view = (await api.get(f"/applications/{withdrawn}", headers=first)).json()
    assert (view["status"], view["status_name"]) == ("withdrawn", "已撤回")

    # after the first-submission deadline (before the modification deadline): the withdrawn one is late, the
    # returned one is not
    first_deadline = notice["个人初次提交截止时间"]
    assert first_deadline < notice["个人修改提交截止时间"]
    api.clock.now = datetime.fromisoformat(first_deadline + "T16:30:00+00:00")
    late = await api.post(f"/applications/{withdrawn}/submit", headers=first)
    assert late.status_code == 422 and late.json()["field"] == "deadline" and "初次提交" in late.json()["detail"]
    assert (await api.post(f"/applications/{returned}/submit", headers=second)).status_code == 200


async def test_one_save_for_the_whole_form_is_all_or_nothing(initial_draft: tuple[Api, Any]) -> None:
    api, app = initial_draft
    url = f"/applications/{app['id']}/sections"
    first = {
        "basic_info": {"version": 0, "content": SECTIONS["basic_info"]},
        "education": {"version": 0, "content": SECTIONS["education"]},
        "work_history": {"version": 0, "content": SECTIONS["work_history"]},
    }
    r = await api.put(url, json=first, headers=api.applicant)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert {n: v["version"] for n, v in saved.items()} == {"basic_info": 1, "education": 1, "work_history": 1}
    assert saved["education"]["content"][0]["id"] and "content" not in saved["basic_info"]  # no phone echoed

    # one stale section: 409 naming it, and the valid section beside it is not saved either
    stale = {
        "assessments": {"version": 0, "content": SECTIONS["assessments"]},
        "education": {"version": 0, "content": SECTIONS["education"]},
    }
    refused = await api.put(url, json=stale, headers=api.applicant)
    assert refused.status_code == 409 and refused.json()["field"] == "education"
    # an invalid one: 422 naming the section and the field
    bad = {"work_history": {"version": 1, "content": [{**SECTIONS["work_history"][0], "employer": ""}]}}
    invalid = await api.put(url, json=bad, headers=api.applicant)
    assert invalid.status_code == 422 and "work_history" in invalid.json()["field"]
    empty = await api.put(url, json={}, headers=api.applicant)
    assert empty.status_code == 422
    view = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert "assessments" not in view["sections"]
    assert view["section_versions"] == {"basic_info": 1, "education": 1, "work_history": 1}
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    assert (await api.put(url, json=first, headers=stranger)).status_code == 404


async def test_the_form_shows_the_registered_identity_and_the_reviewer_sees_whom_they_review(
    initial_draft: tuple[Api, Any],
) -> None:
    api, app = initial_draft
    who = app["applicant_identity"]
    assert who == {
        "name": "王小明",
        "id_type": "居民身份证",
        "id_number_masked": "*****5532",
        "gender": "男",
        "birth_date": "1985-06-03",
    }
    # 性别 and 出生日期 follow the ID number whatever is sent
    sent = {**SECTIONS["basic_info"], "gender": "女", "birth_date": "1999-09-09"}
    assert (await save(api, app["id"], "basic_info", sent)).status_code == 200
    form = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()["sections"]["basic_info"]
    assert (form["gender"], form["birth_date"]) == ("男", "1985-06-03")
    for name in ("education", "work_history", "assessments"):
        assert (await save(api, app["id"], name, SECTIONS[name])).status_code == 200
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 200
    unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    seen = (await api.get(f"/review/applications/{app['id']}", headers=unit)).json()
    assert seen["applicant"]["name"] == "王小明" and seen["applicant"]["id_number_masked"] == "*****5532"
    assert "510104198506035532" not in str(seen)


async def test_without_the_identity_bridge_drafts_save_but_submission_waits(
    applications_db: str, nats_url: str, tmp_path: Path
) -> None:
    from integration.applications.conftest import running_api

    async with running_api(applications_db, nats_url, people=None, attachments_dir=tmp_path / "a") as api:
        await load(api.database_url, year=2026)
        app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
        assert app["applicant_identity"] is None
        for name in ("basic_info", "education", "work_history", "assessments"):
            assert (await save(api, app["id"], name, SECTIONS[name])).status_code == 200
        r = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
        assert r.status_code == 503 and "统一身份认证" in r.json()["detail"]
        assert (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()["status"] == "draft"


async def test_the_applicant_claims_a_waiver_with_proof_and_the_reviewer_sees_it(
    api: Api, clean_jetstream: str
) -> None:
    await load(api.database_url, year=2026)
    committee_id, notice = await first_receiving_committee(api)
    waiver = notice["waivers"][0]  # offered by the activity (评委会预先设置)
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee_id))).json()
    assert "waiver" in [s["name"] for s in app["section_list"]]
    unknown = await save(api, app["id"], "waiver", {"waiver_code": "NOT_SET", "justification": "理由"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "waiver_code"
    claim = {"waiver_code": waiver["code"], "justification": "2023年获四川省农业技术推广奖二等奖（主要完成人第2名）。"}
    saved = await save(api, app["id"], "waiver", claim)
    assert saved.status_code == 200 and saved.json()["content"]["condition"] == waiver["condition"]

    counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, app["id"], name, SECTIONS[name])
    await save(api, app["id"], "achievements", [paper(counting["code"])])
    await upload_required_materials(api, app["id"], notice, api.applicant)
    no_proof = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert (
        no_proof.status_code == 422 and no_proof.json()["field"] == "waiver" and "破格证明" in no_proof.json()["detail"]
    )
    proof = await entry_upload(api, app["id"], "waiver", "proof", PDF, name="获奖证书.pdf")
    assert proof.status_code == 201 and proof.json()["material_name"] == "破格证明材料"
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 200

    unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    seen = (await api.get(f"/review/applications/{app['id']}", headers=unit)).json()
    assert seen["sections"]["waiver"] == {**claim, "condition": waiver["condition"]}
    assert [f["filename"] for f in seen["attachments"] if f["section"] == "waiver"] == ["获奖证书.pdf"]


async def test_a_waiver_is_refused_where_the_activity_sets_none(initial_draft: tuple[Api, Any]) -> None:
    api, app = initial_draft  # 职称初定: no committee, no waivers, no 破格条件 section
    r = await save(api, app["id"], "waiver", {"waiver_code": "PG_AWARD", "justification": "理由"})
    assert r.status_code == 422 and r.json()["field"] == "section"


async def test_each_achievement_form_has_its_own_required_fields(api: Api) -> None:
    await load(api.database_url, year=2026)
    committee_id, notice = await first_receiving_committee(api)
    templates = {t["form"]: t for t in notice["achievement_templates"]}
    assert templates["paper"]["required_fields"] == [
        "category",
        "journal",
        "journal_no",
        "author_rank",
        "words_thousands",
    ]
    assert templates["generic"]["required_fields"] == []
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee_id))).json()

    # 论文著作 (Fig. 2.2.19): *类别 *刊物名称 *刊号 *作者排名 *本人完成字数
    bare = {"template_code": templates["paper"]["code"], "name": "论文", "completed_on": "2024-03-01"}
    r = await save(api, app["id"], "achievements", [bare])
    assert r.status_code == 422 and r.json()["field"] == "0.category" and "论文著作" in r.json()["detail"]
    without_words = {k: v for k, v in paper(templates["paper"]["code"]).items() if k != "words_thousands"}
    r = await save(api, app["id"], "achievements", [without_words])
    assert r.status_code == 422 and r.json()["field"] == "0.words_thousands" and "本人完成字数" in r.json()["detail"]
    # a project needs its own set, not a paper's
    project = {"template_code": templates["project"]["code"], "name": "丘陵农机推广项目", "completed_on": "2024-06-30"}
    r = await save(api, app["id"], "achievements", [paper(templates["paper"]["code"]), project])
    assert r.status_code == 422 and r.json()["field"] == "1.project_level"
    project |= {
        "project_level": "市级农业技术推广项目",
        "author_rank": 2,
        "acceptance": "2024年7月通过市农业农村局验收",
    }
    other = {"template_code": templates["generic"]["code"], "name": "推广总结", "completed_on": "2024-05-01"}
    r = await save(api, app["id"], "achievements", [paper(templates["paper"]["code"]), project, other])
    assert r.status_code == 200, r.text
