"""The operator console (流程运维, issue 21) in a real browser against `make run`'s stack: the operator finds an
application waiting in its unit 公示, sees the timer with its due time (in the list, in "why it waits" and on the
diagram), suspends it with a reason (refused without one), sees the overdue timer held, resumes it and sees the
timer fire. Each step leaves a screenshot in .artifacts/web-operator/ and passes axe-core's check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e.browser import needs_chromium, screenshot_and_axe
from e2e.conftest import ProbeStack
from playwright.sync_api import Page, Request, expect

from zc_devstack.journey import DAY, Journey

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "web-operator"
pytestmark = needs_chromium


def shot(page: Page, name: str) -> None:
    screenshot_and_axe(page, ARTIFACTS / f"{name}.png")


def act_with_reason(page: Page, action: str, reason: str) -> None:
    """An action: its button, the reason in the dialog (the service's schema draws the field), then the confirm."""
    page.get_by_role("group", name="运维操作").get_by_role("button", name=action, exact=True).click()
    dialog = page.get_by_role("dialog", name=f"{action}流程实例")
    dialog.locator('[data-field="reason"] textarea').fill(reason)
    dialog.get_by_role("button", name="确定").click()
    page.get_by_role("dialog", name=f"确认{action}").get_by_role("button", name=f"确定{action}").click()
    expect(page.locator(".el-message", has_text=f"已{action}")).to_be_visible()
    expect(dialog).to_be_hidden()


@pytest.mark.timeout(300)
def test_the_operator_finds_a_waiting_instance_sees_its_timer_suspends_and_resumes_it(
    page: Page, probe_stack: ProbeStack
) -> None:
    journey = Journey(
        probe_stack.base, advance_clock=probe_stack.advance, say=lambda _line: None, applicant="applicant18"
    )
    try:
        journey.submit()
        journey.act("unit_reviewer", "工作单位", "单位审核推荐", comment="同意推荐")  # the unit 公示 starts
        key = journey.outcome.application_id

        page.goto("/api/identity/dev/login?return_to=/workbench/operator")
        page.get_by_role("button", name="运维人员").click()
        expect(page.get_by_role("heading", name="流程实例")).to_be_visible()
        expect(page.get_by_role("menuitem", name="流程运维")).to_be_visible()

        # find it: running, by its business key
        page.get_by_role("textbox", name="业务标识").fill(key)
        page.locator(".el-select", has=page.get_by_role("combobox", name="状态")).click()
        page.locator(".el-select-dropdown__item:visible", has_text="运行中").click()
        page.get_by_role("button", name="查询").click()
        expect(page.get_by_text("共 1 条")).to_be_visible()
        row = page.locator(".el-table__row", has_text=key)
        expect(row).to_contain_text("职称申报评审")
        expect(row).to_contain_text("运行中")
        expect(row).to_contain_text("24:00")  # the 公示 ends at 24:00 of its 5th working day
        expect(row).to_contain_text(re.compile(r"剩余 \d+ 个工作日"))
        shot(page, "01-instances")

        # why it waits: the 公示 timer (with its due time and working days left) and the objection it may receive
        row.get_by_role("link", name=key).click()
        expect(page.get_by_role("heading", name="流程实例详情")).to_be_visible()
        expect(page.get_by_test_id("instance-status")).to_have_text("运行中")
        timers = page.get_by_test_id("timers")
        expect(timers).to_contain_text("单位公示期满（5个工作日）")
        expect(timers).to_contain_text(re.compile(r"剩余 \d+ 个工作日"))
        # the diagram: the timer is where the token is, the unit's review on the path taken, the due time beside it
        diagram = page.get_by_test_id("process-diagram")
        expect(diagram.locator('.djs-element.zc-op-active[data-element-id="unit_notice_ends"]')).to_have_count(1)
        expect(diagram.locator('.djs-element.zc-op-passed[data-element-id="unit_review"]')).to_have_count(1)
        expect(diagram.locator(".djs-connection.zc-op-taken").first).to_be_attached()
        expect(diagram.locator(".zc-op-due")).to_contain_text("到期")
        shot(page, "02-why-it-waits")

        # suspend: refused in the form without a reason, before any request
        page.get_by_role("group", name="运维操作").get_by_role("button", name="挂起", exact=True).click()
        dialog = page.get_by_role("dialog", name="挂起流程实例")
        expect(dialog).to_contain_text("定时器不再触发")
        sent: list[Request] = []
        page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
        dialog.get_by_role("button", name="确定").click()
        expect(dialog.locator('[data-field="reason"]')).to_contain_text("请填写操作原因")
        assert sent == []
        shot(page, "03-suspend-needs-a-reason")
        dialog.get_by_role("button", name="取消").click()
        act_with_reason(page, "挂起", "核查举报材料")
        expect(page.get_by_test_id("instance-status")).to_have_text("已挂起")
        expect(page.get_by_text("实例已挂起")).to_be_visible()

        # while suspended the 公示 ends: the timer is overdue (in red) and does not fire
        probe_stack.advance(8 * DAY)
        page.wait_for_timeout(3_000)  # a few scheduler passes
        page.reload()
        overdue = page.get_by_test_id("timers").locator(".left.overdue")
        expect(overdue).to_contain_text("已超期")
        expect(page.get_by_test_id("instance-status")).to_have_text("已挂起")
        shot(page, "04-suspended-timer-overdue")

        # resume: the scheduler fires the overdue timer; the department's review is open
        act_with_reason(page, "恢复", "核查完毕，材料属实")
        expect(page.get_by_test_id("instance-status")).to_have_text("运行中")
        for _ in range(20):
            if page.get_by_text("主管部门审核").first.is_visible() and not page.get_by_test_id("timers").count():
                break
            page.wait_for_timeout(1_000)
            page.reload()
        expect(page.locator(".el-table__row", has_text="主管部门审核").first).to_be_visible()
        expect(page.get_by_test_id("timers")).to_have_count(0)
        history = page.locator("section", has=page.get_by_role("heading", name="历史"))
        expect(history.locator(".el-table__row", has_text="挂起")).to_contain_text("核查举报材料")
        expect(history.locator(".el-table__row", has_text="恢复")).to_contain_text("核查完毕，材料属实")
        expect(history.locator(".el-table__row", has_text="定时器到期")).to_have_count(1)
        shot(page, "05-resumed-and-moved-on")

        # the audit as the API keeps it: who, what, why
        ops = probe_stack.as_("operator")
        found = ops.get("/api/review/operator/instances", params={"business_key": key}).json()["items"][0]
        why = ops.get(f"/api/review/operator/instances/{found['instance_id']}").json()
        audit = [(h["kind"], h["actor_role"], h["comment"]) for h in why["history"] if h["actor_role"] == "operator"]
        assert audit == [("suspend", "operator", "核查举报材料"), ("resume", "operator", "核查完毕，材料属实")]
        assert "unit_notice_ends" in why["passed_elements"] and why["timers"] == []
    finally:
        probe_stack.reset_clock()
