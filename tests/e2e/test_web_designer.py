"""流程设计 in a real browser (Debian's Chromium, Playwright) against `make run`'s stack (issue 21): the designer
opens application_review, changes a task's 办理期限 in the properties panel, breaks a lane's role and sees the
server's problem drawn on that lane, fixes it, deploys version 2, sees the change in the visual diff, and runs the
migration dry run that lists the running instances. Also: a designer without the admin role sees the script tasks
that need trust, a new process starts from a blank diagram, and 职称初定's DMN table is shown read-only. Each screen
gets a screenshot under .artifacts/web-designer/ and an axe-core check.

The stack is shared by the session's browser tests, so the test puts back what it changed: a version 3 with the
original 办理期限 (the same process as version 1, now with a layout) and the two applications it started cancelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e.browser import needs_chromium, screenshot_and_axe
from e2e.conftest import ProbeStack
from playwright.sync_api import Page, expect

from zc_devstack.journey import Journey

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "web-designer"
pytestmark = needs_chromium
APPLICANTS = ("applicant16", "applicant17")  # theirs are the running instances of version 1


def shot(page: Page, name: str) -> None:
    screenshot_and_axe(page, ARTIFACTS / f"{name}.png")


def sign_in(page: Page, label: str, return_to: str) -> None:
    page.context.clear_cookies()
    page.goto(f"/api/identity/dev/login?return_to={return_to}")
    page.get_by_role("button", name=label, exact=True).click()


def element(page: Page, element_id: str, scope: str = ".workspace") -> Any:
    return page.locator(f'{scope} g.djs-element[data-element-id="{element_id}"]')


def click_element(page: Page, element_id: str, *, header: bool = False) -> None:
    """A click where the element is drawn (a lane: on its name, at its left edge). The mouse, not locator.click():
    Playwright would scroll bpmn-js's overflow-hidden container to "reveal" an SVG group."""
    box = element(page, element_id).bounding_box()
    assert box is not None, element_id
    x = box["x"] + (10 if header else box["width"] / 2)
    page.mouse.click(x, box["y"] + box["height"] / 2)


def reveal(page: Page, element_id: str) -> None:
    """Scroll the canvas sideways (shift + wheel, as a user would) until the element is in view."""
    canvas = page.locator(".workspace .canvas").bounding_box()
    assert canvas is not None
    left, right = canvas["x"] + 130, canvas["x"] + canvas["width"] - 20  # the palette covers the left edge
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    for _ in range(40):
        box = element(page, element_id).bounding_box()
        assert box is not None, element_id
        if left < box["x"] and box["x"] + box["width"] < right:
            return
        page.keyboard.down("Shift")
        page.mouse.wheel(0, 150 if box["x"] > left else -150)
        page.keyboard.up("Shift")
        page.wait_for_timeout(50)
    raise AssertionError(f"{element_id} not brought into view")


def start_applications(stack: ProbeStack) -> list[str]:
    """Two submitted applications, each waiting in the unit's review (an instance of application_review v1)."""
    keys = []
    for applicant in APPLICANTS:
        journey = Journey(stack.base, advance_clock=stack.advance, say=lambda _line: None, applicant=applicant)
        journey.submit()
        journey.task_for("unit_reviewer", journey.outcome.application_id, "单位审核待办")
        keys.append(journey.outcome.application_id)
    return keys


def latest_version(stack: ProbeStack) -> int:
    items = stack.as_("admin").get("/api/review/definitions").json()["items"]
    return max(d["version"] for d in items if d["process_key"] == "application_review")


def restore(stack: ProbeStack, keys: list[str], base: int) -> None:
    """The next version = the deployed one with the original 办理期限; the started applications' reviews cancelled."""
    admin = stack.as_("admin")
    latest = latest_version(stack)
    if latest > base:
        source = admin.get(f"/api/review/definitions/application_review/{latest}/source").text
        if 'name="dueIn" value="12"' in source:
            body = {
                "process_key": "application_review",
                "source": source.replace('name="dueIn" value="12"', 'name="dueIn" value="10"', 1),
                "trusted": True,
            }
            assert admin.post("/api/review/definitions", json=body).status_code == 201
    for key in keys:
        found = admin.get("/api/review/operator/instances", params={"business_key": key}).json()["items"]
        for instance in found:
            if instance["status"] == "running":
                admin.post(
                    f"/api/review/operator/instances/{instance['instance_id']}/cancel",
                    json={"reason": "流程设计测试结束，撤销测试申报"},
                )


@pytest.mark.timeout(420)
def test_the_designer_edits_validates_deploys_compares_and_dry_runs_a_migration(
    page: Page, probe_stack: ProbeStack
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    keys: list[str] = []
    v1 = latest_version(probe_stack)  # 1 on a fresh stack
    v2 = v1 + 1
    try:
        keys = start_applications(probe_stack)

        sign_in(page, "系统管理员", "/workbench/designer")
        row = page.locator(".el-table__row", has_text="application_review")
        expect(row).to_contain_text("职称申报评审")
        expect(row).to_contain_text(f"第 {v1} 版")
        shot(page, "01-processes")

        page.get_by_role("link", name="设计 职称申报评审").click()
        expect(element(page, "unit_review")).to_be_visible()
        expect(page.get_by_text("服务端校验通过")).to_be_visible()  # as deployed from bpmn/, with its layout made
        expect(page.get_by_text(f"当前为第 {v1} 版")).to_be_visible()
        expect(page.get_by_text("未修改", exact=True)).to_be_visible()
        shot(page, "02-designer")

        # 办理期限 of the unit's review: 10 → 12 working days, in the panel
        click_element(page, "unit_review")
        panel = page.locator(".panel")
        expect(panel.get_by_text("审核设置")).to_be_visible()
        expect(panel.locator('[data-entry-id="zc-formKey"] input')).to_have_value("unit_review_v1")
        expect(panel.locator('[data-entry-id="zc-stage"] select')).to_have_value("unit")
        due = panel.locator('[data-entry-id="zc-dueIn"] input')
        expect(due).to_have_value("10")
        due.fill("12")
        expect(page.get_by_text("已修改，未部署")).to_be_visible()
        shot(page, "03-due-in")

        # the unit's lane loses its role: the server's problem is drawn on the lane and listed
        click_element(page, "lane_unit", header=True)
        role = panel.locator('[data-entry-id="zc-laneRole"] select')
        expect(role).to_have_value("unit_reviewer")
        role.select_option("")
        problem = page.locator('.list.server li[data-element="lane_unit"]')
        expect(problem).to_contain_text("不是已知角色")
        expect(page.locator('.workspace g.djs-element.zc-problem[data-element-id="lane_unit"]')).to_have_count(1)
        expect(page.locator(".zc-problem-badge")).to_have_count(1)
        expect(page.locator(".list.server li")).to_have_count(1)  # nothing else is wrong
        shot(page, "04-problem-on-the-lane")

        # the list leads to the element; the role chosen again, the problem goes
        click_element(page, "unit_review")
        problem.get_by_role("button", name="lane_unit").click()
        expect(role).to_have_value("")
        role.select_option("unit_reviewer")
        expect(page.get_by_text("服务端校验通过")).to_be_visible()
        expect(page.locator(".workspace g.djs-element.zc-problem")).to_have_count(0)

        # a timer in working days, a message by its known name (read here, not changed)
        reveal(page, "unit_notice_ends")
        click_element(page, "unit_notice_ends")
        expect(panel.locator('[data-entry-id="zc-timerDays"] input')).to_have_value("5")
        expect(panel.locator('[data-entry-id="zc-timerExpression"] input')).to_have_value("working_days_later(5)")
        click_element(page, "withdraw_received")
        message = panel.locator('[data-entry-id="zc-messageName"] select')
        expect(message).to_have_value("withdraw")
        expect(message.locator("option")).to_have_count(4)  # （未指定） and the three messages a process may wait for
        expect(message).not_to_contain_text("application_approved")

        page.get_by_role("button", name="部署").click()
        expect(page.get_by_text(f"已部署为第 {v2} 版")).to_be_visible()
        expect(page.get_by_text(f"当前为第 {v2} 版")).to_be_visible()
        page.get_by_role("button", name="部署").click()  # nothing changed since: no further version
        expect(page.get_by_text("流程未修改，无需部署新版本")).to_be_visible()

        # the visual diff: the unit's review changed (amber on both versions), the lane put back is not
        page.get_by_role("link", name=f"查看与第 {v1} 版的差异").click()
        for side in (".viewer.old", ".viewer.new"):
            expect(page.locator(f'{side} g.djs-element.diff-changed[data-element-id="unit_review"]')).to_have_count(1)
            expect(page.locator(f'{side} g.diff-changed[data-element-id="lane_unit"]')).to_have_count(0)
        expect(page.locator(".changed-list")).to_contain_text("unit_review")
        expect(page.locator(".viewer g.diff-added, .viewer g.diff-removed")).to_have_count(0)
        shot(page, "05-visual-diff")

        # 迁移: the dry run lists both running instances, from version 1 to 2, and whether each can move
        page.get_by_role("navigation", name="流程页面").get_by_role("link", name="实例迁移").click()
        page.get_by_placeholder("记入每个实例的审计记录").fill("单位审核办理期限调整为 12 个工作日")
        page.get_by_role("button", name="预演").click()
        expect(page.get_by_text(f"预演结果：第 {v1} 版 → 第 {v2} 版")).to_be_visible()
        for key in keys:
            listed = page.locator(".instances .el-table__row", has_text=key)
            expect(listed).to_contain_text(f"第 {v1} 版 → 第 {v2} 版")
            expect(listed).to_contain_text("可以迁移")
            expect(listed).to_contain_text("单位审核推荐")  # the open task, re-made under the new version
        expect(page.get_by_role("button", name="执行迁移")).to_be_enabled()
        shot(page, "06-migration-dry-run")
        assert errors == []
    finally:
        restore(probe_stack, keys, v1)


@pytest.mark.timeout(300)
def test_a_designer_sees_what_needs_trust_starts_a_new_process_and_reads_the_dmn_table(
    page: Page, probe_stack: ProbeStack
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "流程设计人员", "/workbench/designer")
    page.get_by_role("link", name="设计 职称初定").click()
    expect(element(page, "unit_review")).to_be_visible()
    # scripts run only in a diagram an administrator trusts: named on each script task, and no 可信 for a designer
    server = page.locator(".list.server li")
    expect(server.first).to_contain_text("需要管理员将流程标记为可信后才能部署")
    expect(page.locator('.workspace g.djs-element.zc-problem[data-element-id="init"]')).to_have_count(1)
    expect(page.get_by_text("可信（允许脚本任务）")).to_have_count(0)

    page.get_by_role("navigation", name="流程页面").get_by_role("link", name="决策表").click()
    expect(page.get_by_role("heading", name="职称初定资格建议（initial_eligibility）")).to_be_visible()
    table = page.locator(".viewer .tjs-table")
    expect(table).to_contain_text("博士研究生")
    expect(table).to_contain_text("可初定中级")
    expect(page.locator('.viewer [contenteditable="true"]')).to_have_count(0)  # read-only
    shot(page, "07-dmn-table")

    page.get_by_role("link", name="流程设计").first.click()
    page.get_by_role("button", name="新建流程").click()
    dialog = page.get_by_role("dialog", name="新建流程")
    dialog.get_by_placeholder("如 title_review_2027").fill("designer_probe")
    dialog.get_by_placeholder("如 职称评审（2027）").fill("设计器试用流程")
    dialog.get_by_role("button", name="开始设计").click()
    expect(page.get_by_text("新建流程：设计器试用流程（designer_probe）")).to_be_visible()
    expect(element(page, "lane_unit")).to_be_visible()
    expect(page.get_by_text("服务端校验通过")).to_be_visible()
    expect(page.get_by_text("尚未部署")).to_be_visible()
    shot(page, "08-new-process")
    assert errors == []
