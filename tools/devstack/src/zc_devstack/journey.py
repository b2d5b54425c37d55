"""The 申报评审 journey (direct review), driven through the public API of a running stack with the demo
users' development login: what `make demo` shows step by step, and what the end-to-end test asserts.

Every step says who acts and what state the application is in afterwards, in Chinese.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from zc_devstack.demo_application import PDF, SECTIONS, UNIT, paper, settings

DEMO_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"
ENTRUSTED_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c011"  # 乐山: outside the Chengdu demo unit's region
DAY = 24 * 3600.0


@dataclass
class Outcome:
    application_id: str = ""
    certificate: dict[str, Any] = field(default_factory=dict)
    check_by_number: dict[str, Any] = field(default_factory=dict)
    check_by_token: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    application_status: str = ""
    steps: int = 0


class Journey:
    def __init__(
        self,
        base_url: str,
        *,
        advance_clock: Callable[[float], None],
        say: Callable[[str], None],
        applicant: str = "applicant",
        timeout: float = 60,
    ) -> None:
        self.base = base_url
        self.applicant = applicant  # which demo applicant (each may hold one application per title and year)
        self.advance_clock = advance_clock  # seconds to move every service's clock forward
        self.say = say
        self.timeout = timeout
        self.clients: dict[str, httpx.Client] = {}
        self.outcome = Outcome()

    # -- plumbing ------------------------------------------------------------------------------------------

    def as_(self, who: str) -> httpx.Client:
        if who not in self.clients:
            # the web client's header: the gateway turns the session cookie into a token for a state change
            # only when our own pages sent it (CSRF)
            client = httpx.Client(base_url=self.base, timeout=30, headers={"X-Requested-With": "zhicheng"})
            r = client.post(f"/api/identity/dev/login/{who}?return_to=/")
            if r.status_code != 303:
                raise RuntimeError(f"开发环境登录失败（{who}）：{r.status_code} {r.text[:200]}")
            self.clients[who] = client
        return self.clients[who]

    def eventually(self, probe: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(0.3)
        raise TimeoutError(f"等待超时：{what}")

    def step(self, role: str, action: str, status: str) -> None:
        self.outcome.steps += 1
        self.say(f"{self.outcome.steps:>2}. 【{role}】{action} → {status}")

    def status(self) -> str:
        apps = self.as_(self.applicant).get("/api/applications/applications").json()["items"]
        app = next(a for a in apps if a["id"] == self.outcome.application_id)
        return str(app["status_name"])  # e.g. 审核中（主管部门）

    def task_for(self, who: str, key: str, what: str) -> dict[str, Any]:
        """The open task of `key` in `who`'s inbox, once the review has made it."""
        client = self.as_(who)

        def task() -> dict[str, Any] | None:
            r = client.get("/api/review/tasks", params={"size": 100})
            r.raise_for_status()
            return next((t for t in r.json()["items"] if t["business_key"] == key), None)

        return dict(self.eventually(task, what))

    def act(self, who: str, role: str, action: str, decision: str = "approve", **body: Any) -> None:
        client = self.as_(who)
        found = self.task_for(who, self.outcome.application_id, f"{role}的待办")
        r = client.post(f"/api/review/tasks/{found['task_id']}/complete", json={"decision": decision, **body})
        if r.status_code != 200:
            raise RuntimeError(f"{role}办理失败：{r.status_code} {r.text[:300]}")
        label = {"approve": "通过", "reject": "不通过", "return": "退回"}[decision]
        time.sleep(0.5)  # let the status reach 我的申报 before it is shown
        self.step(role, f"{found['title']}：{label}", self.status())

    def pass_days(self, days: float, what: str) -> None:
        self.advance_clock(days * DAY)
        self.say(f"    （时钟前进 {days:g} 天：{what}）")

    # -- the journey ---------------------------------------------------------------------------------------

    def direct_review(self) -> Outcome:
        return self.review(entrusted=False)

    def entrusted_review(self) -> Outcome:
        """委托评审: a committee outside the unit's region; the department that issued the letter issues."""
        return self.review(entrusted=True)

    def review(self, *, entrusted: bool) -> Outcome:
        staff = "committee_staff2" if entrusted else "committee_staff"
        if entrusted:
            self.submit(committee_id=ENTRUSTED_COMMITTEE, method="WEITUO", listing="entrusted")
        else:
            self.submit()
        self.act("unit_reviewer", "工作单位", "单位审核推荐", comment="同意推荐")
        self.pass_days(8, "单位公示 5 个工作日期满")
        self.act("department_reviewer", "主管部门（一级）", "主管部门审核")
        self.act("department_reviewer2", "主管部门（二级）", "主管部门审核")
        self.act(staff, "评委会", "受理")
        experts = ("expert", "expert2", "expert3")
        ids = [self.as_(who).get("/api/identity/session").json()["user_id"] for who in experts]
        self.act(staff, "评委会", "组织专家评审", form={"experts": ids})
        for who, vote in zip(experts, ("approve", "approve", "reject"), strict=True):
            self.act(who, f"评审专家 {who[-1] if who[-1].isdigit() else '1'}", "评议表决", vote)
        self.pass_days(8, "评审结果公示 5 个工作日期满")
        if entrusted:
            issuance = {"document_number": "成农委评〔2026〕5号", "issue_date": "2026-12-30"}
            self.act("department_reviewer", "出具委托评审函的主管部门", "委托单位发证", form=issuance)
        else:
            self.act("authority", "授权管理单位", "确认评审结果")
            issuance = {"document_number": "川职改〔2026〕18号", "issue_date": "2026-12-30"}
            self.act(staff, "评委会", "提交发证数据", form=issuance)
        self.collect()
        return self.outcome

    def submit(self, *, committee_id: str = DEMO_COMMITTEE, method: str = "SHEHUIHUA", listing: str = "direct") -> None:
        applicant = self.as_(self.applicant)
        query = {"unit_id": UNIT, "method": method, "series": "NONGYE", "level": "ZHONGJI", "year": 2026, "size": 50}
        committees = applicant.get("/api/applications/committees/query", params=query).json()
        listed = [i for i in committees[listing]["items"] if i["id"] == committee_id]
        if not listed or not listed[0]["selectable"]:
            raise RuntimeError(
                f"评委会 {committee_id} 不在可选列表中：{[i['name'] for i in committees[listing]['items']]}"
            )
        committee = listed[0]
        notice = applicant.get(f"/api/applications/committees/{committee['id']}/activities/2026").json()
        created = applicant.post("/api/applications/applications", json=settings(committee["id"], method=method))
        if created.status_code != 201:
            raise RuntimeError(f"新建申报失败：{created.text[:300]}")
        app_id = self.outcome.application_id = str(created.json()["id"])
        for name, body in SECTIONS.items():
            r = applicant.put(
                f"/api/applications/applications/{app_id}/sections/{name}", json=body, headers={"If-Match": "0"}
            )
            r.raise_for_status()
        counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
        applicant.put(
            f"/api/applications/applications/{app_id}/sections/achievements",
            json=[paper(counting["code"])],
            headers={"If-Match": "0"},
        ).raise_for_status()
        if created.json()["settings"]["entrustment_letter_required"]:  # 主管部门出具的委托评审函
            applicant.post(
                f"/api/applications/applications/{app_id}/entrustment-letter",
                params={"filename": "委托评审函.pdf"},
                content=PDF,
            ).raise_for_status()
        for material in notice["required_materials"]:
            if material["required"]:
                applicant.post(
                    f"/api/applications/applications/{app_id}/materials",
                    params={"material": material["name"], "filename": f"{material['name']}.pdf"},
                    content=PDF,
                ).raise_for_status()
        self.step("申报人", f"新建申报（{committee['name']}）并填写全部信息项", self.status())
        submitted = applicant.post(f"/api/applications/applications/{app_id}/submit")
        if submitted.status_code != 200:
            raise RuntimeError(f"提交失败：{submitted.text[:300]}")
        self.step("申报人", "提交申报", self.status())

    def collect(self) -> None:
        applicant, out = self.as_(self.applicant), self.outcome

        def certificate() -> dict[str, Any] | None:
            items = applicant.get("/api/certificates/certificates/mine").json()["items"]
            return items[0] if items else None

        out.certificate = self.eventually(certificate, "证书发放")
        self.eventually(lambda: self.status() == "已发证", "我的申报显示已发证")
        out.application_status = self.status()
        self.step("系统", f"发放电子职称证书 {out.certificate['certificate_no']}", out.application_status)
        out.messages = [m["title"] for m in applicant.get("/api/applications/messages").json()["items"]]
        pdf = applicant.get(f"/api/certificates/certificates/{out.certificate['id']}/pdf")
        pdf.raise_for_status()
        self.step("申报人", f"下载电子证书（PDF，{len(pdf.content) // 1024} KB）", "已下载")
        public = httpx.Client(base_url=self.base, timeout=10)
        number, name = out.certificate["certificate_no"], out.certificate["holder_name"]
        out.check_by_number = public.get(
            "/api/certificates/public/check", params={"number": number, "name": name}
        ).json()
        self.step("公众", f"证书查询：编号 {number} + 姓名", out.check_by_number["result_name"])
        token = out.certificate["check_url"].rsplit("/", 1)[1]
        out.check_by_token = public.get(f"/api/certificates/public/check/{token}").json()
        self.step("公众", "扫描证书二维码核验", out.check_by_token["result_name"])
