"""Issue 17: the object-level authorization matrix, generated from the services' OpenAPI documents.

Every operation whose path names an object (an application, attachment, record, message, task, instance,
trail, certificate, verification, committee, unit, user, process definition) is called through the gateway by
every demo principal — each role, in its own scope and in a foreign one, and an anonymous visitor — with the id
of an object it owns and of one it does not. Who owns what follows the rules the services implement (who may
read an application at which stage, whose region a certificate is in); the objects are made here through the
API, as users would make them.

- A foreign call (the principal is not among the object's insiders) must never succeed (2xx): every method.
- Reads by insiders must succeed for at least one insider of every read operation, so the matrix has teeth
  (ids that are real, answers that are not refused for a wrong reason).
- Writes by insiders are not sent: they would change the objects the other calls rely on; their own tests
  cover them.
- An operation that names an object and has no binding here fails the test: a new route joins the matrix.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import httpx
import pytest
from e2e.conftest import ProbeStack

from integration.applications.test_records import JPEG, OUT_OF_PROVINCE, PDF
from integration.certificates.test_verifications import HISTORICAL
from zc_devstack.demo_application import SECTIONS, UNIT, settings
from zc_devstack.journey import DEMO_COMMITTEE, Journey

SERVICES = ("identity", "applications", "review", "certificates")
PRINCIPALS = (
    "anonymous",
    "applicant2",  # owns the drafts
    "applicant3",  # owns nothing here
    "applicant4",  # owns the submitted application and the submitted 外省职称确认
    "applicant5",  # owns the verified certificate
    "unit_reviewer",  # the demo unit
    "unit_reviewer2",  # another unit
    "department_reviewer",
    "department_reviewer2",
    "committee_staff",  # the demo committee
    "committee_staff2",  # 乐山's committee
    "committee_organiser",
    "expert",
    "authority",  # 成都市
    "authority2",  # 乐山市
    "process_designer",
    "operator",
    "admin",
)
OPERATORS = frozenset({"operator", "admin"})
OTHER_UNIT = "0193a1f0-0000-7000-8000-00000000a003"
ENTRUSTED_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c011"
# path parameters that name an object; the others (a section name, a record kind, a topic, an action, a
# version) only qualify one
OBJECT_PARAMS = frozenset(
    {
        "app_id",
        "att_id",
        "rec_id",
        "message_id",
        "unit_id",
        "committee_id",
        "task_id",
        "instance_id",
        "business_key",
        "certificate_id",
        "verification_id",
        "file_id",
        "user_id",
        "process_key",
        "article_id",
    }
)
# objects anyone may look at (the manual's public pages and reference data): not in the matrix
PUBLIC = frozenset(
    {
        ("get", "/api/applications/units/{unit_id}"),
        ("get", "/api/applications/committees/{committee_id}/activities/{year}"),
        ("get", "/api/applications/portal/articles/{article_id}"),
    }
)
WHY = "越权测试"
PORTAL_ARTICLE = {
    "kind": "policy",
    "title": "评审政策文件（越权测试）",
    "body": "越权测试",
    "publisher": "成都市农业系列中级评委会0706",
    "committee_id": DEMO_COMMITTEE,
}


@dataclass(frozen=True)
class Binding:
    """An object (and what qualifies it) and the principals who may act on it."""

    what: str
    params: dict[str, Any]
    insiders: frozenset[str]

    @property
    def object(self) -> str:
        """The path parameter naming the object itself (the first one); the others qualify it."""
        return next(iter(self.params))


@dataclass
class Matrix:
    calls: int = 0
    foreign: int = 0
    foreign_successes: list[str] = field(default_factory=list)
    foreign_refused: Counter[int] = field(default_factory=Counter)
    insider_reads: int = 0
    insider_read_successes: int = 0
    operations: int = 0
    read_operations_without_insider_success: list[str] = field(default_factory=list)


def _request_for(method: str, template: str, binding: Binding) -> dict[str, Any]:
    """A body a legitimate caller could send, so that a refusal is about who asks, not what is sent."""
    tail = template.rsplit("/", 1)[-1]
    if tail in {"photo"}:
        return {"content": JPEG, "params": {"filename": "照片.jpg"}}
    if tail in {"materials", "entrustment-letter", "proofs", "attachments"} and method == "post":
        return {"content": PDF, "params": {"filename": "证明.pdf", "material": binding.params.get("material", "")}}
    if template.endswith("/sections") and method == "put":  # 暂存 of the whole form
        return {"json": {"assessments": {"version": 0, "content": SECTIONS["assessments"]}}}
    if "/sections/" in template:  # one route per section
        section = template.rsplit("/", 1)[-1]
        return {"json": SECTIONS.get(section, []), "headers": {"If-Match": "1"}}
    if template.startswith("/api/applications/records/") and template.endswith("/{rec_id}") and method == "put":
        return {"json": OUT_OF_PROVINCE, "headers": {"If-Match": "1"}}
    if template.endswith("/verifications/{verification_id}") and method == "put":
        return {"json": HISTORICAL, "headers": {"If-Match": "1"}}
    bodies: dict[str, Any] = {
        "complete": {"decision": "approve"},
        "revoke": {"reason": WHY},
        "{action}": {"reason": WHY},
        "migrations": {"from_version": 1, "to_version": 1, "dry_run": True, "reason": WHY},
        "sync": {"record_ids": []},
        "roles": {"role": "applicant", "scope_type": "global", "scope_id": None},
        "messages": {"application_id": binding.params.get("app_id", ""), "title": WHY, "body": WHY, "sender_name": WHY},
    }
    if tail in bodies and method != "get":
        return {"json": bodies[tail]}
    if template.endswith("/committees/{committee_id}"):
        return {"json": binding.params["committee_body"]}
    if template.endswith("/portal/articles/{article_id}") and method == "put":
        return {"json": {k: PORTAL_ARTICLE[k] for k in ("title", "body", "publisher")}, "headers": {"If-Match": "1"}}
    if template.endswith("/activities/{year}"):
        return {"json": {}}  # refused for the role before the body matters, or a 422: counted below
    if template.endswith("/diff"):
        return {"params": {"from_version": 1, "to_version": 1}}
    return {}


def _created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def world(probe_stack: ProbeStack) -> Iterator[list[Binding]]:
    """The objects, made through the API as their owners and reviewers would make them."""
    as_ = probe_stack.as_
    bindings: list[Binding] = []
    say: list[str] = []

    # a draft application of applicant2, one section saved, one material uploaded: only its owner
    drafter = as_("applicant2")
    draft = drafter.post("/api/applications/applications", json=settings(DEMO_COMMITTEE))
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]
    section = next(iter(SECTIONS))
    saved = drafter.put(
        f"/api/applications/applications/{draft_id}/sections/{section}",
        json=SECTIONS[section],
        headers={"If-Match": "0"},
    )
    assert saved.status_code == 200, saved.text
    notice = drafter.get(f"/api/applications/committees/{DEMO_COMMITTEE}/activities/2026").json()
    material = notice["required_materials"][0]["name"]
    uploaded = drafter.post(
        f"/api/applications/applications/{draft_id}/materials",
        params={"material": material, "filename": "证明.pdf"},
        content=PDF,
    )
    assert uploaded.status_code == 201, uploaded.text
    draft_att = drafter.get(f"/api/applications/applications/{draft_id}/attachments").json()["items"][0]["id"]
    bindings.append(
        Binding(
            "申报（草稿）",
            {
                "app_id": draft_id,
                "att_id": draft_att,
                "topic": "education",
                "version": "1",
                "material": material,
                "section": "education",
                "entry_id": "e1",
            },
            frozenset({"applicant2"}),
        )
    )

    # a submitted application of applicant4 at the unit's stage: its owner and the unit's reviewers
    journey = Journey(probe_stack.base, advance_clock=lambda _s: None, say=say.append, applicant="applicant4")
    journey.clients = {who: as_(who) for who in ("applicant4", "unit_reviewer", "operator")}
    journey.submit()
    submitted_id = journey.outcome.application_id
    assert submitted_id is not None
    submitted_att = as_("applicant4").get(f"/api/applications/applications/{submitted_id}/attachments").json()
    task = journey.task_for("unit_reviewer", submitted_id, "单位审核待办")
    instances = as_("operator").get("/api/review/operator/instances", params={"business_key": submitted_id})
    instance_id = instances.json()["items"][0]["instance_id"]
    bindings += [
        Binding(
            "申报（单位审核中）",
            {
                "app_id": submitted_id,
                "att_id": submitted_att["items"][0]["id"],
                "topic": "education",
                "version": "1",
                "material": material,
                "section": "education",
                "entry_id": "e1",
            },
            frozenset({"applicant4", "unit_reviewer"}),
        ),
        Binding("单位审核待办", {"task_id": task["task_id"]}, frozenset({"unit_reviewer"})),
        Binding("审核进度", {"business_key": submitted_id}, frozenset({"applicant4"}) | OPERATORS),
        Binding("流程实例", {"instance_id": instance_id, "action": "suspend"}, OPERATORS),
    ]

    # a message the unit sent applicant4: only theirs
    sent = as_("unit_reviewer").post(
        f"/api/applications/units/{UNIT}/messages",
        json={
            "application_id": submitted_id,
            "title": "请补充材料",
            "body": "请补充学历证明。",
            "sender_name": "示例单位",
        },
    )
    assert sent.status_code == 201, sent.text
    messages = journey.eventually(
        lambda: as_("applicant4").get("/api/applications/messages").json()["items"], "申报人收到消息"
    )
    bindings.append(Binding("我的消息", {"message_id": messages[0]["id"]}, frozenset({"applicant4"})))

    # records: a draft 外省职称确认 of applicant2; a submitted 外省职称确认 of applicant4 (its unit's reviewers,
    # the departments above the unit, the authority whose region holds it)
    drafted = _created(drafter.post("/api/applications/records/out_of_province", json={"unit_id": UNIT}))
    base = f"/api/applications/records/out_of_province/{drafted}"
    r = drafter.put(base, json=OUT_OF_PROVINCE, headers={"If-Match": "0"})
    assert r.status_code == 200, r.text
    proof = drafter.post(f"{base}/proofs", params={"filename": "证明.pdf"}, content=PDF)
    bindings.append(
        Binding(
            "外省职称确认（草稿）",
            {"rec_id": drafted, "kind": "out_of_province", "att_id": _created(proof)},
            frozenset({"applicant2"}),
        )
    )
    owner4 = as_("applicant4")
    outside = _created(owner4.post("/api/applications/records/out_of_province", json={"unit_id": UNIT}))
    base = f"/api/applications/records/out_of_province/{outside}"
    assert owner4.put(base, json=OUT_OF_PROVINCE, headers={"If-Match": "0"}).status_code == 200
    assert owner4.post(f"{base}/photo", content=JPEG).status_code == 201
    outside_proof = owner4.post(f"{base}/proofs", params={"filename": "原证书.pdf"}, content=PDF).json()["id"]
    assert owner4.post(f"{base}/submit").status_code == 200
    bindings.append(
        Binding(
            "外省职称确认（已提交）",
            {"rec_id": outside, "kind": "out_of_province", "att_id": outside_proof},
            frozenset({"applicant4", "unit_reviewer", "department_reviewer", "department_reviewer2", "authority"}),
        )
    )

    # certificate verification: a draft of applicant2; one of applicant5 verified by the committee's organiser,
    # which gives applicant5 a certificate (the holder and the authority of its region)
    def verification(owner: str) -> tuple[str, str]:
        client = as_(owner)
        vid = client.post("/api/certificates/verifications", json={"committee_id": DEMO_COMMITTEE}).json()["id"]
        r = client.put(f"/api/certificates/verifications/{vid}", json=HISTORICAL, headers={"If-Match": "0"})
        assert r.status_code == 200, r.text
        assert client.post(f"/api/certificates/verifications/{vid}/social-insurance/sync").status_code == 200
        file_id = client.post(
            f"/api/certificates/verifications/{vid}/attachments", params={"filename": "职称证书.pdf"}, content=PDF
        ).json()["id"]
        return vid, file_id

    draft_vid, draft_file = verification("applicant2")
    bindings.append(
        Binding("证书核验（草稿）", {"verification_id": draft_vid, "file_id": draft_file}, frozenset({"applicant2"}))
    )
    verified_vid, verified_file = verification("applicant5")
    assert as_("applicant5").post(f"/api/certificates/verifications/{verified_vid}/submit").status_code == 200
    journey.clients["committee_organiser"] = as_("committee_organiser")
    found = journey.task_for("committee_organiser", verified_vid, "证书核验待办")
    done = as_("committee_organiser").post(
        f"/api/review/tasks/{found['task_id']}/complete", json={"decision": "approve"}
    )
    assert done.status_code == 200, done.text
    bindings.append(
        Binding(
            "证书核验（已核验）",
            {"verification_id": verified_vid, "file_id": verified_file},
            frozenset({"applicant5", "committee_organiser"}),
        )
    )
    certificate = journey.eventually(
        lambda: as_("applicant5").get("/api/certificates/certificates/mine").json()["items"], "核验通过的证书"
    )[0]
    bindings.append(Binding("职称证书", {"certificate_id": certificate["id"]}, frozenset({"applicant5", "authority"})))

    # organisations: the demo unit and another; the demo committee and 乐山's
    bindings += [
        Binding("工作单位", {"unit_id": UNIT, "app_id": submitted_id}, frozenset({"unit_reviewer"})),
        Binding("工作单位（另一家）", {"unit_id": OTHER_UNIT, "app_id": submitted_id}, frozenset({"unit_reviewer2"})),
    ]
    catalog = json.loads(files("applications").joinpath("reference_data/demo_data.json").read_text(encoding="utf-8"))
    # a committee: its staff and (the demo one) its organising unit, e.g. choosing from its experts
    committees = (
        (DEMO_COMMITTEE, {"committee_staff", "committee_organiser"}),
        (ENTRUSTED_COMMITTEE, {"committee_staff2"}),
    )
    for committee_id, staff in committees:
        seed = next(c for c in catalog["committees"] if c["id"] == committee_id)
        body = {
            "name": seed["name"],
            "series": seed["series"],
            "levels": seed["levels"],
            "region_scope": seed["region_scope"],
            "organiser_id": seed["organiser"]["id"],
            "organiser_name": seed["organiser"]["name"],
            "contact_person": seed["contact_person"],
            "contact_phone": seed["contact_phone"],
        }
        bindings.append(
            Binding(
                f"评委会 {seed['name']}",
                {"committee_id": committee_id, "year": "2026", "committee_body": body},
                frozenset({*staff, "admin"}),
            )
        )

    # a portal article of the demo committee, published by its staff: they and administrators maintain it
    article = _created(as_("committee_staff").post("/api/applications/portal/articles", json=PORTAL_ARTICLE))
    bindings.append(Binding("门户内容（评委会）", {"article_id": article}, frozenset({"committee_staff", "admin"})))

    # a user's roles (administrators only) and a deployed process (designers and operators)
    user_id = as_("applicant3").get("/api/identity/session").json()["user_id"]
    bindings += [
        Binding("用户角色", {"user_id": user_id}, frozenset({"admin"})),
        Binding(
            "流程定义",
            {"process_key": "application_review", "version": "1"},
            frozenset({"process_designer"}) | OPERATORS,
        ),
    ]
    yield bindings


def _operations(stack: ProbeStack) -> Iterator[tuple[str, str]]:
    with httpx.Client(base_url=stack.base, timeout=30) as client:
        for service in SERVICES:
            for template, item in client.get(f"/api/{service}/openapi.json").json()["paths"].items():
                for method in item:
                    yield method, template


def _path_params(template: str) -> set[str]:
    return {part[1:-1] for part in template.split("/") if part.startswith("{")}


@pytest.mark.timeout(900)
def test_no_principal_reaches_an_object_outside_its_scope(
    probe_stack: ProbeStack, world: list[Binding], report_counts
) -> None:
    matrix, unbound = Matrix(), []
    clients = {who: probe_stack.anonymous() if who == "anonymous" else probe_stack.as_(who) for who in PRINCIPALS}
    for method, template in _operations(probe_stack):
        wanted = _path_params(template)
        if not wanted & OBJECT_PARAMS or (method, template) in PUBLIC:
            continue
        usable = [b for b in world if b.object in wanted and wanted <= b.params.keys()]
        if not usable:
            unbound.append(f"{method.upper()} {template}")
            continue
        matrix.operations += 1
        insider_answers: list[str] = []
        insider_succeeded = False
        for binding in usable:
            path = template.format(**binding.params)
            for who, client in clients.items():
                insider = who in binding.insiders
                if insider and method != "get":
                    continue  # would change the objects the other calls rely on
                response = client.request(method.upper(), path, **_request_for(method, template, binding))
                matrix.calls += 1
                ok = 200 <= response.status_code < 300
                if insider:
                    matrix.insider_reads += 1
                    matrix.insider_read_successes += ok
                    insider_succeeded |= ok
                    insider_answers.append(f"{who} [{binding.what}] {response.status_code} {response.text[:120]}")
                else:
                    matrix.foreign += 1
                    matrix.foreign_refused[response.status_code] += 1
                    if ok:
                        matrix.foreign_successes.append(
                            f"{who} {method.upper()} {template} [{binding.what}] -> {response.status_code}"
                        )
        if method == "get" and not insider_succeeded:
            matrix.read_operations_without_insider_success.append(f"GET {template}: {insider_answers}")

    report_counts(
        {
            "operations": matrix.operations,
            "principals": len(PRINCIPALS),
            "objects": len(world),
            "calls": matrix.calls,
            "foreign_calls": matrix.foreign,
            "foreign_successes": len(matrix.foreign_successes),
            # refused for what was sent before the caller was judged: not evidence either way
            "foreign_refused_as_invalid": matrix.foreign_refused[422],
            "insider_reads": matrix.insider_reads,
            "insider_read_successes": matrix.insider_read_successes,
        }
    )
    assert not unbound, f"operations naming an object that the matrix does not cover: {unbound}"
    assert not matrix.foreign_successes, "\n".join(matrix.foreign_successes)
    assert not matrix.read_operations_without_insider_success, matrix.read_operations_without_insider_success
    assert not {s for s in matrix.foreign_refused if s >= 500}, matrix.foreign_refused
