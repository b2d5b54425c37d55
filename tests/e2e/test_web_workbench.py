"""The reviewers' workbench in a real browser (Debian's Chromium, Playwright) against `make run`'s stack: a whole
申报评审 through the UI — the applicant submits in the portal, the unit returns it with a reason, the applicant
reads the reason and resubmits, then every reviewer decides in 工作台 (the 公示 periods passed by moving the
stack's clock), the committee names the experts and the issuance data in the task's own form, and the applicant
downloads the certificate. Each screen gets a screenshot under .artifacts/web-workbench/ and an axe-core check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from e2e.browser import needs_chromium, screenshot_and_axe
from e2e.conftest import ProbeStack
from e2e.test_web_portal import fill_every_required_section, fill_settings
from playwright.sync_api import Page, expect

from zc_devstack.journey import Journey

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "web-workbench"
pytestmark = needs_chromium

# the development login's button of each demo reviewer
LOGIN = {
    "unit_reviewer": "工作单位审核人",
    "department_reviewer": "主管部门审核人",
    "department_reviewer2": "上级主管部门审核人",
    "committee_staff": "评委会工作人员",
    "expert": "评审专家",
    "expert2": "评审专家（二）",
    "expert3": "评审专家（三）",
    "authority": "授权管理单位（发证）",
}


def shot(page: Page, name: str) -> None:
    screenshot_and_axe(page, ARTIFACTS / f"{name}.png")


def sign_in(page: Page, label: str, return_to: str) -> None:
    """A fresh session as the demo user behind `label` (the previous user's cookies gone)."""
    page.context.clear_cookies()
    page.goto(f"/api/identity/dev/login?return_to={return_to}")
    page.get_by_role("button", name=label, exact=True).click()


def decide(
    page: Page,
    journey: Journey,
    who: str,
    key: str,
    decision: str,
    *,
    reasons: tuple[str, ...] = (),
    fill: Any = None,
    name: str | None = None,
) -> None:
    """`who` opens the task of application `key` from 我的待办 and decides it in the browser."""
    task = journey.task_for(who, key, f"{LOGIN[who]}的待办")
    sign_in(page, LOGIN[who], "/workbench/tasks")
    expect(page.get_by_role("menuitem", name="我的待办")).to_be_visible()
    # the inbox lists it (most urgent first; the stack's other tests leave fewer than a page of tasks)
    page.locator(f'a[href="/workbench/tasks/{task["task_id"]}"]').first.click()
    expect(page.locator(".title", has_text=task["title"])).to_be_visible()
    expect(page.locator(".snapshot")).to_contain_text("丘陵山区农机化路径研究")  # what was submitted, read-only
    page.get_by_role("radiogroup", name="审核结论").get_by_text(decision, exact=True).click()
    for i, reason in enumerate(reasons):
        if i:
            page.get_by_role("button", name="添加原因").click()
        page.get_by_label(f"原因 {i + 1}").fill(reason)
    if fill:
        fill(page)
    if name:
        shot(page, name)
    page.get_by_role("button", name="提交", exact=True).click()
    page.get_by_role("dialog", name="确认办理").get_by_role("button", name="确定").click()
    expect(page.get_by_text("办理成功")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/workbench/tasks$"))


def choose_experts(page: Page) -> None:
    page.locator('[data-field="experts"] .el-select').click()  # the committee's experts, by name: take three
    options = page.locator(".el-select-dropdown__item:visible")
    expect(options.first).to_be_visible()
    assert options.count() >= 3
    for i in range(3):
        options.nth(i).click()
    page.keyboard.press("Escape")


def issuance_data(page: Page) -> None:
    page.locator('[data-field="document_number"] input').fill("川职改〔2026〕33号")
    day = page.locator('[data-field="issue_date"] input')
    day.fill("2026-12-30")
    day.press("Enter")


@pytest.mark.timeout(600)
def test_a_whole_review_is_decided_in_the_workbench(page: Page, probe_stack: ProbeStack) -> None:
    """Issue 21, Done-when 1: returned with a reason, resubmitted, approved by the unit; after the 公示 the two
    departments, the committee (受理, 组织专家评审), three experts (2 : 1), the authority and the committee's
    issuance data, each in the browser; the applicant downloads the certificate."""
    journey = Journey(probe_stack.base, advance_clock=probe_stack.advance, say=lambda _l: None, applicant="applicant15")
    sign_in(page, "申报人（十五）", "/centre/new")
    fill_settings(page)
    page.get_by_role("button", name="立即申报").click()
    expect(page.get_by_text("2026年度 - 农业技术人员（未提交）")).to_be_visible()
    fill_every_required_section(page, phone="13800000036")
    page.get_by_role("button", name="提交").click()
    page.get_by_role("dialog", name="提交").get_by_role("button", name="确定").click()
    expect(page.locator(".el-card", has_text="农业技术人员")).to_contain_text("审核中")
    key = journey.as_("applicant15").get("/api/applications/applications").json()["items"][0]["id"]

    try:
        # the unit's inbox, then a return with its reason
        arrived = journey.task_for("unit_reviewer", key, "单位的待办")
        sign_in(page, LOGIN["unit_reviewer"], "/workbench")
        expect(page.get_by_text(re.compile(r"我的待办（共 [1-9]\d* 件）"))).to_be_visible()
        # among the stack's other tests' tasks, most urgent first
        expect(page.locator(f'a[href="/workbench/tasks/{arrived["task_id"]}"]').first).to_have_text("单位审核推荐")
        shot(page, "01-inbox")
        # the unit writes to the applicant from the task, then returns it with a reason
        task = journey.task_for("unit_reviewer", key, "单位的待办")
        page.goto(f"/workbench/tasks/{task['task_id']}")
        page.get_by_role("button", name="发送消息").click()
        letter = page.get_by_role("dialog", name="发送消息")
        letter.get_by_label("标题").fill("请补充业绩证明")
        letter.get_by_label("内容").fill("请在三个工作日内补充近三年业绩证明材料。")
        letter.get_by_role("button", name="发送").click()
        expect(page.get_by_text("消息已发送")).to_be_visible()
        decide(page, journey, "unit_reviewer", key, "退回修改", reasons=("请补充近三年业绩证明",), name="02-return")

        sign_in(page, "申报人（十五）", "/centre/messages")
        expect(page.locator(".el-table__row", has_text="请补充业绩证明")).to_contain_text("未读")
        page.get_by_role("menuitem", name="我的申报").click()
        card = page.locator(".el-card", has_text="农业技术人员")
        expect(card).to_contain_text("请补充近三年业绩证明")
        card.get_by_role("button", name="继续申报").click()
        page.get_by_role("menubar", name="信息项").get_by_role("menuitem", name="个人基本信息").click()
        page.locator('[data-field="performance_summary"] textarea').fill("补充：近三年农机推广项目验收证明已上传。")
        page.get_by_role("button", name="提交").click()
        page.get_by_role("dialog", name="提交").get_by_role("button", name="确定").click()
        expect(page.locator(".el-card", has_text="农业技术人员")).to_contain_text("审核中")

        decide(page, journey, "unit_reviewer", key, "通过", name="03-approve")
        page.get_by_role("menuitem", name="公示").click()  # its 公示 runs: until when, and 登记异议 beside it
        notice = page.locator(".el-table__row", has_text="农艺师")
        expect(notice).to_contain_text("登记异议")
        shot(page, "03b-notices")
        page.get_by_role("menuitem", name="已办").click()
        expect(page.locator(".el-table__row").first).to_contain_text("通过")
        expect(page.locator(".el-table__body")).to_contain_text("请补充近三年业绩证明")
        shot(page, "04-decided")

        probe_stack.advance(8 * 86400)  # the unit's 公示 (5 working days) runs out
        decide(page, journey, "department_reviewer", key, "通过")
        decide(page, journey, "department_reviewer2", key, "通过")
        decide(page, journey, "committee_staff", key, "通过")  # 受理
        decide(page, journey, "committee_staff", key, "通过", fill=choose_experts, name="05-assign-experts")
        for who, vote in (("expert", "通过"), ("expert2", "通过"), ("expert3", "不通过")):
            decide(page, journey, who, key, vote, reasons=("业绩材料不足",) if vote == "不通过" else ())
        probe_stack.advance(8 * 86400)  # the result's 公示 runs out
        decide(page, journey, "authority", key, "通过")
        decide(page, journey, "committee_staff", key, "通过", fill=issuance_data, name="06-issuance")
    finally:
        probe_stack.reset_clock()

    def certificate() -> dict[str, Any] | None:
        items = journey.as_("applicant15").get("/api/certificates/certificates/mine").json()["items"]
        return items[0] if items else None

    number = journey.eventually(certificate, "证书")["certificate_no"]
    sign_in(page, "申报人（十五）", "/centre/certificates")
    row = page.locator(".el-table__row", has_text=number)
    with page.expect_download() as download:
        row.get_by_text("下载电子证书").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    shot(page, "07-certificate")

    # 证书管理: the authority finds it by number and revokes it with a reason
    sign_in(page, LOGIN["authority"], "/workbench/certificates")
    page.get_by_placeholder("请输入证书编号").fill(number)
    page.get_by_role("button", name="查询").click()
    row = page.locator(".el-table__row", has_text=number)
    expect(row).to_contain_text("有效")
    shot(page, "08-certificate-admin")
    row.get_by_role("button", name="撤销").click()
    dialog = page.get_by_role("dialog", name="撤销证书")
    dialog.get_by_role("button", name="确定撤销").click()
    expect(dialog).to_contain_text("请填写撤销原因")  # refused in the form, before any request
    dialog.get_by_label("撤销原因").fill("经核查，申报材料不实")
    dialog.get_by_role("button", name="确定撤销").click()
    expect(page.locator(".el-table__row", has_text=number)).to_contain_text("已撤销")
    check = journey.as_("applicant15").get("/api/certificates/certificates/mine").json()["items"][0]
    assert check["status"] == "revoked" and check["revoke_reason"] == "经核查，申报材料不实"


def test_a_talent_statistics_record_is_reviewed_in_the_workbench(page: Page, probe_stack: ProbeStack) -> None:
    """Record reviews in the same workbench: the unit opens a 专技人才统计 record, reads it labelled as the applicant's
    form labelled it, and approves; the applicant's record shows the outcome."""
    from zc_devstack.demo_application import TALENT, UNIT

    journey = Journey(probe_stack.base, advance_clock=probe_stack.advance, say=lambda _l: None, applicant="applicant15")
    applicant = journey.as_("applicant15")
    rec = applicant.post("/api/applications/records/talent_stats", json={"unit_id": UNIT}).json()
    saved = applicant.put(
        f"/api/applications/records/talent_stats/{rec['id']}", json=TALENT, headers={"If-Match": str(rec["version"])}
    )
    assert saved.status_code == 200, saved.text
    assert applicant.post(f"/api/applications/records/talent_stats/{rec['id']}/submit").status_code == 200

    decide_record = journey.task_for("unit_reviewer", rec["id"], "统计的待办")
    sign_in(page, LOGIN["unit_reviewer"], f"/workbench/tasks/{decide_record['task_id']}")
    expect(page.get_by_role("heading", name="专技人才统计")).to_be_visible()
    first_label = page.locator(".el-descriptions__label").first
    expect(first_label).not_to_have_text(re.compile(r"^[a-z_]+$"))  # a Chinese label, not the field's key
    shot(page, "09-record")
    page.get_by_role("radiogroup", name="审核结论").get_by_text("通过", exact=True).click()
    page.get_by_role("button", name="提交", exact=True).click()
    page.get_by_role("dialog", name="确认办理").get_by_role("button", name="确定").click()
    expect(page.get_by_text("办理成功")).to_be_visible()

    def decided() -> str | None:
        status = applicant.get(f"/api/applications/records/talent_stats/{rec['id']}").json()["status"]
        return status if status != "submitted" else None

    assert journey.eventually(decided, "统计审核结果") == "approved"
