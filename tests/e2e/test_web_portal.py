"""The web client in a real browser (Debian's Chromium, driven by Playwright) against `make run`'s stack: the
portal's public pages, the 登录入口 and the development login, 个人中心, and a form drawn from the server's
schema refusing what the server would refuse before any request. Each step leaves a screenshot in
.artifacts/web-portal/."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from e2e.browser import needs_chromium, screenshot_and_axe
from e2e.conftest import ProbeStack
from playwright.sync_api import Page, Request, expect

from zc_devstack.journey import Journey

REPO = Path(__file__).resolve().parents[2]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 4000 + b"\xff\xd9"
PDF = b"%PDF-1.7\n" + b"0" * 2048 + b"\n%%EOF\n"
ARTIFACTS = REPO / ".artifacts" / "web-portal"
pytestmark = needs_chromium


def shot(page: Page, name: str) -> None:
    screenshot_and_axe(page, ARTIFACTS / f"{name}.png")


def test_the_first_page_loads_at_most_300_kb_of_gzipped_javascript(page: Page, report_counts: Any) -> None:
    """Route-level code splitting: 首页 loads the shell and its own chunk, not every screen (issue 20)."""
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url.rsplit("/", 1)[-1]) if r.url.endswith(".js") else None)
    page.goto("/")
    expect(page.get_by_text("专业技术人才职称申报评审")).to_be_visible()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    assets = REPO / "web" / "dist" / "assets"
    sizes = {name: len(gzip.compress((assets / name).read_bytes(), 9)) for name in scripts}
    total = sum(sizes.values())
    report_counts({"first_page_js_files": len(sizes), "first_page_js_gzip_bytes": total})
    assert 0 < total <= 300 * 1024, sizes


def test_public_pages_answer_without_login(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_title("首页 - 四川省职称评审系统")
    nav = page.get_by_role("navigation", name="主导航")
    for label in ("首页", "通知公告", "政策文件", "评审公示", "证书查询", "评审委员会", "个人中心"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    shot(page, "01-home")

    nav.get_by_role("link", name="评审委员会").click()
    expect(page.get_by_text("评审区域范围")).to_be_visible()
    rows = page.locator(".el-table__body tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    shot(page, "02-committees")

    nav.get_by_role("link", name="证书查询").click()
    page.get_by_placeholder("请输入证书编号").fill("川NOT-A-NUMBER-1")
    page.get_by_placeholder("请输入持证人姓名").fill("王小明")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("未查询到该证书")).to_be_visible()
    shot(page, "03-certificate-check")

    page.goto("/no-such-page/deeper")  # a deep link after a reload: the app answers, not the server
    expect(page.get_by_text("页面不存在")).to_be_visible()


def test_an_applicant_logs_in_and_the_form_refuses_before_sending(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="登录").click()
    dialog = page.get_by_role("dialog", name="登录入口")
    expect(dialog.get_by_role("button", name="个人登录")).to_be_visible()
    expect(dialog.get_by_role("button", name="单位登录")).to_be_visible()
    shot(page, "04-login-entry")
    dialog.get_by_role("link", name="开发环境登录（演示用户）").click()
    page.get_by_role("button", name="申报人（十二）").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="个人中心").click()
    expect(page.get_by_role("heading", name="我的申报")).to_be_visible()
    shot(page, "05-my-applications")

    page.get_by_role("menuitem", name="个人信息").click()
    former = page.locator('[data-field="former_name"]')
    expect(former).to_contain_text("曾用名")
    expect(former).to_contain_text("0 / 10")
    expect(page.locator('[data-field="mobile_phone"]')).to_have_class(re.compile(r"\bis-required\b"))  # the star
    former.locator("input").fill("一二三四五六七八九十一二")  # 12 characters into a field of at most 10
    expect(former).to_contain_text("10 / 10")
    expect(page.locator('[data-field="ethnicity"] .el-select')).to_be_visible()

    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.method == "PUT" else None)
    page.get_by_role("button", name="保存").click()
    expect(page.locator('[data-field="mobile_phone"]')).to_contain_text("请填写手机号码")
    assert sent == []  # refused in the form, before any request
    shot(page, "06-profile-refused")

    # 个人信息's other sections: a 继续教育 row, saved with its version, there after a reload
    items = page.get_by_role("menubar", name="个人信息项")
    for title in ("学历信息", "工作经历", "社会团体任职情况", "继续教育", "考核情况", "考试信息"):
        expect(items.get_by_role("menuitem", name=title)).to_be_visible()
    items.get_by_role("menuitem", name="继续教育").click()
    page.get_by_role("button", name="新增").click()
    row = page.get_by_role("dialog", name="新增")
    date(page, row, "start", "2025-03-01")
    date(page, row, "end", "2025-03-05")
    row.locator('[data-field="organiser"] input').fill("四川省农业农村厅")
    row.locator('[data-field="place"] input').fill("成都")
    row.locator('[data-field="content"] textarea').fill("智慧农机培训")
    row.get_by_role("button", name="确定").click()
    expect(page.get_by_text("保存成功")).to_be_visible()
    page.reload()
    page.get_by_role("menubar", name="个人信息项").get_by_role("menuitem", name="继续教育").click()
    expect(page.locator(".el-table__row", has_text="四川省农业农村厅")).to_contain_text("成都")
    shot(page, "06b-profile-sections")


def choose(page: Page, field: str, option: str) -> None:
    """An Element Plus select of the settings form: open it, pick the option by its text."""
    page.locator(f'[data-field="{field}"] .el-select').click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def pick_demo_unit(page: Page) -> None:
    """选择工作单位 (Fig. 2.2.2): search by keyword, pick the demo unit, 确认."""
    unit_dialog = page.get_by_role("dialog", name="选择工作单位")
    unit_dialog.get_by_placeholder("请输入单位名称或统一社会信用代码").fill("示例农业")
    unit_dialog.get_by_role("button", name="查询").click()
    unit_dialog.get_by_text("成都市示例农业科技有限公司").click()
    unit_dialog.get_by_role("button", name="确认").click()


def fill_settings(page: Page) -> None:
    """个人申报设置 for a 农艺师 (中级) under the demo committee, through the unit picker and the committee dialog."""
    page.locator('[data-field="unit_id"]').get_by_role("button", name="选择").click()
    pick_demo_unit(page)
    expect(page.locator('[data-field="unit_id"] input')).to_have_value("成都市示例农业科技有限公司")

    choose(page, "method", "社会化评审")
    choose(page, "series", "农业技术人员")
    choose(page, "level", "中级")
    choose(page, "specialty", "农业机械化")
    choose(page, "qualification", "农艺师")
    page.get_by_role("button", name="选择评委会").click()
    committees = page.get_by_role("dialog", name="选择评委会")
    expect(committees.get_by_text("可直接申报的评委会")).to_be_visible()
    expect(committees.get_by_text("需委托评审的评委会")).to_be_visible()
    shot(page, "07-choose-committee")
    row = committees.locator('[data-part="direct"] .el-table__row', has_text="成都市农业系列中级评委会0706")
    row.get_by_role("button", name="选择").click()
    expect(page.get_by_text("成都市农业系列中级评委会0706评审通知")).to_be_visible()
    choose(page, "category", "正常申报")


def test_a_new_application_is_made_through_the_settings_and_its_dialogs(page: Page) -> None:
    """新增申报 (Fig. 2.2.1–2.2.4): the unit picker, the cascade, the 选择评委会 dialog, the 评审通知, 立即申报."""
    page.goto("/api/identity/dev/login?return_to=/centre/new")
    page.get_by_role("button", name="申报人（十三）").click()
    expect(page.get_by_text("个人申报设置")).to_be_visible()
    early = page.get_by_role("button", name="立即申报")
    early.click()
    expect(page.locator('[data-field="unit_id"]')).to_contain_text("请选择工作单位")  # the form, before any request

    fill_settings(page)
    shot(page, "08-settings-filled")
    page.get_by_role("button", name="立即申报").click()

    # the editor: a list section's row through its dialog, 暂存, and it is there after a reload
    expect(page.get_by_text("2026年度 - 农业技术人员（未提交）")).to_be_visible()
    sections = page.get_by_role("menubar", name="信息项")
    sections.get_by_role("menuitem", name="考核情况").click()
    page.get_by_role("button", name="新增").click()
    row = page.get_by_role("dialog", name="新增")
    row.locator('[data-field="year"] input').fill("2025")
    row.locator('[data-field="result"] .el-select').click()
    page.locator(".el-select-dropdown__item:visible", has_text="优秀").first.click()
    row.get_by_role("button", name="确定").click()
    expect(sections.get_by_role("menuitem", name=re.compile("考核情况.*未暂存"))).to_be_visible()
    page.get_by_role("button", name="暂存").click()
    expect(page.get_by_text("暂存成功")).to_be_visible()
    page.reload()
    page.get_by_role("menubar", name="信息项").get_by_role("menuitem", name="考核情况").click()
    expect(page.locator(".el-table__row", has_text="优秀")).to_contain_text("2025")
    shot(page, "09-editor")

    # 业绩成果: the clause first, then that clause's form with its own stars (论文著作: *类别 *刊物名称 *刊号 …)
    page.get_by_role("menubar", name="信息项").get_by_role("menuitem", name="业绩成果").click()
    page.get_by_role("button", name="新增").click()
    clauses = page.get_by_role("dialog", name="选择业绩成果类型")
    clauses.get_by_text("发表本专业论文", exact=False).click()
    paper = page.get_by_role("dialog", name="新增")
    for starred in ("category", "journal", "journal_no", "author_rank", "words_thousands"):
        expect(paper.locator(f'[data-field="{starred}"]')).to_have_class(re.compile(r"\bis-required\b"))
    expect(paper.locator('[data-field="patent_no"]')).to_have_count(0)  # another form's field
    paper.locator('[data-field="name"] input').fill("丘陵山区农机化路径研究")
    paper.get_by_role("button", name="确定").click()
    expect(paper.locator('[data-field="journal"]')).to_contain_text("请填写刊物名称")
    shot(page, "09a-paper-form")
    paper.get_by_role("button", name="取消").click()

    # uploads: the rule is shown before choosing; a wrong type is refused in the page, before any request
    sections = page.get_by_role("menubar", name="信息项")
    sections.get_by_role("menuitem", name="个人基本信息").click()
    expect(page.locator(".photo")).to_contain_text("JPG/JPEG，不超过 500KB")
    gender = page.locator('[data-field="gender"]')
    expect(gender.get_by_role("combobox")).to_be_disabled()  # the ID number says it
    expect(gender).to_contain_text("男")  # 511502198503064119: the 17th digit, 1, is odd
    expect(page.locator('[data-field="birth_date"] input')).to_have_value("1985-03-06")
    posted: list[Request] = []
    page.on("request", lambda r: posted.append(r) if r.method == "POST" else None)
    page.locator(".photo input[type=file]").set_input_files(
        files=[{"name": "照片.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}]
    )
    expect(page.get_by_text("请上传JPG/JPEG格式的文件")).to_be_visible()
    assert [r.url for r in posted if "/photo" in r.url] == []
    page.locator(".photo input[type=file]").set_input_files(
        files=[{"name": "证件照.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    expect(page.locator(".photo")).to_contain_text("证件照.jpg")
    sections.get_by_role("menuitem", name="评委会需求材料").click()
    material = page.locator(".el-table__row", has_text="申报人诚信承诺书")
    material.locator("input[type=file]").set_input_files(
        files=[{"name": "诚信承诺书.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(material).to_contain_text("诚信承诺书.pdf")
    shot(page, "09b-uploads")

    page.get_by_role("menuitem", name="我的申报").click()
    expect(page.get_by_role("heading", name="我的申报")).to_be_visible()
    card = page.locator(".el-card", has_text="农业技术人员")
    expect(card).to_contain_text("申报等级：中级")
    expect(card).to_contain_text("申报专业：农业机械化")
    expect(card).to_contain_text("申报职称：农艺师")
    expect(card).to_contain_text("未提交")
    shot(page, "10-card")


def test_a_talent_statistics_record_goes_to_its_review_and_the_certificates_page_answers(page: Page) -> None:
    """专技人才统计 (§2.6): 新增 (the unit), 填写信息 from the schema, 提交审核; 我的证书 lists and offers 证书核验."""
    page.goto("/api/identity/dev/login?return_to=/centre/talent-stats")
    page.get_by_role("button", name="申报人（十四）").click()
    page.get_by_role("button", name="新增").click()
    pick_demo_unit(page)
    expect(page.get_by_text("填写信息")).to_be_visible()

    page.locator('[data-field="year"] input').fill("2026")
    page.locator('[data-field="post"] input').fill("农业技术推广")
    page.locator('[data-field="post_grade"] input').fill("9")
    page.locator('[data-field="title_name"] input').fill("农艺师")
    choose(page, "title_level", "中级")
    page.locator('[data-field="specialty"] input').fill("农业机械化")
    choose(page, "highest_education", "大学本科")
    page.locator('[data-field="work_start_date"] input').fill("2008-07-01")
    page.locator('[data-field="work_start_date"] input').press("Enter")
    shot(page, "11-talent-stats")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    expect(page.locator(".el-table__row", has_text="审核中")).to_be_visible()

    page.get_by_role("menuitem", name="我的证书").click()
    expect(page.get_by_text("证书下载")).to_be_visible()
    page.get_by_role("button", name="新增").click()
    expect(page.get_by_role("dialog", name="新增证书核验")).to_be_visible()
    shot(page, "12-certificates")


def date(page: Page, scope: Any, field: str, value: str) -> None:
    box = scope.locator(f'[data-field="{field}"] input')
    box.fill(value)
    box.press("Enter")


def pick(page: Page, scope: Any, field: str, option: str) -> None:
    scope.locator(f'[data-field="{field}"] .el-select').click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def fill_common_sections(page: Page, sections: Any, *, phone: str) -> None:
    """个人基本信息 (with the photo), 学历 by 同步 from 学信网, one 工作经历 and one 考核情况: what both 申报评审 and
    职称初定 require."""
    sections.get_by_role("menuitem", name="个人基本信息").click()
    page.locator('[data-field="mobile_phone"] input').fill(phone)
    pick(page, page, "ethnicity", "汉族")
    date(page, page, "work_start_date", "2008-07-01")
    pick(page, page, "political_status", "中国共产党党员")
    page.locator('[data-field="performance_summary"] textarea').fill("参与农业机械化推广项目十余项。")
    page.locator(".photo input[type=file]").set_input_files(
        files=[{"name": "证件照.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    expect(page.locator(".photo")).to_contain_text("证件照.jpg")

    sections.get_by_role("menuitem", name="学历信息").click()  # 同步 from 学信网: choose the records
    page.get_by_role("button", name="同步", exact=True).click()
    synced = page.get_by_role("dialog", name="同步")
    synced.locator(".el-table__header .el-checkbox").click()  # all of them
    synced.get_by_role("button", name=re.compile("同步所选")).click()
    expect(page.get_by_text("同步成功")).to_be_visible()
    expect(page.locator(".rows .el-table__row").first).to_be_visible()

    sections.get_by_role("menuitem", name="工作经历").click()
    page.get_by_role("button", name="新增").click()
    row = page.get_by_role("dialog", name="新增")
    date(page, row, "start", "2008-07-01")
    row.locator('[data-field="employer"] input').fill("成都市示例农业科技有限公司")
    row.locator('[data-field="content"] textarea').fill("负责农机推广与技术培训。")
    row.get_by_role("button", name="确定").click()

    sections.get_by_role("menuitem", name="考核情况").click()
    page.get_by_role("button", name="新增").click()
    row = page.get_by_role("dialog", name="新增")
    row.locator('[data-field="year"] input').fill("2025")
    pick(page, row, "result", "合格")
    row.get_by_role("button", name="确定").click()


def fill_every_required_section(page: Page, *, phone: str) -> None:
    """From a new 申报评审 draft to ready to 提交: the common sections, 社保参保信息 read-only, one counting 业绩成果,
    暂存 and a reload, every required 评委会需求材料 uploaded."""
    sections = page.get_by_role("menubar", name="信息项")
    fill_common_sections(page, sections, phone=phone)

    # 社保参保信息 (Fig. 2.2.6): fetched from its source, read-only, the source and time shown
    sections.get_by_role("menuitem", name="社保参保信息").click()
    page.get_by_role("button", name="获取社保参保信息").click()
    expect(page.locator("p.hint:visible", has_text="数据来源：")).to_be_visible()
    expect(page.locator(".el-table__row:visible").first).to_be_visible()
    expect(page.locator(".el-table input:visible")).to_have_count(0)
    shot(page, "09c-social-insurance")

    sections.get_by_role("menuitem", name="业绩成果").click()
    page.get_by_role("button", name="新增").click()
    page.get_by_role("dialog", name="选择业绩成果类型").get_by_text("发表本专业论文", exact=False).click()
    row = page.get_by_role("dialog", name="新增")
    row.locator('[data-field="name"] input').fill("丘陵山区农机化路径研究")
    date(page, row, "completed_on", "2024-03-01")
    row.locator('[data-field="category"] input').fill("论文")
    row.locator('[data-field="journal"] input').fill("四川农业科技")
    row.locator('[data-field="journal_no"] input').fill("CN51-1117/S")
    row.locator('[data-field="author_rank"] input').fill("1")
    row.locator('[data-field="words_thousands"] input').fill("6.5")
    row.get_by_role("button", name="确定").click()

    page.get_by_role("button", name="暂存").click()
    expect(page.get_by_text("暂存成功")).to_be_visible()
    page.reload()
    sections = page.get_by_role("menubar", name="信息项")
    sections.get_by_role("menuitem", name="业绩成果").click()
    expect(page.locator(".rows .el-table__row", has_text="丘陵山区农机化路径研究")).to_be_visible()

    sections.get_by_role("menuitem", name="评委会需求材料").click()
    required = page.locator(".el-table__row", has=page.get_by_text("是", exact=True))
    for index in range(required.count()):
        material = required.nth(index)
        material.locator("input[type=file]").set_input_files(
            files=[{"name": f"材料{index + 1}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        expect(material).to_contain_text(f"材料{index + 1}.pdf")
    shot(page, "13-ready-to-submit")


@pytest.mark.timeout(300)
def test_an_applicant_fills_every_required_section_uploads_and_submits_in_the_browser(page: Page) -> None:
    """Issue 20, Done-when 1: a new applicant creates a 社会化评审 application through the dialogs, fills every
    required section, uploads the photo and the required materials, 暂存s, reloads and 提交s."""
    page.goto("/api/identity/dev/login?return_to=/centre/new")
    page.get_by_role("button", name="申报人（十一）").click()
    fill_settings(page)
    page.get_by_role("button", name="立即申报").click()
    expect(page.get_by_text("2026年度 - 农业技术人员（未提交）")).to_be_visible()
    fill_every_required_section(page, phone="13800000031")

    page.get_by_role("button", name="提交").click()
    page.get_by_role("dialog", name="提交").get_by_role("button", name="确定").click()
    expect(page.get_by_role("heading", name="我的申报")).to_be_visible()
    expect(page.locator(".el-card", has_text="农业技术人员")).to_contain_text("审核中")
    shot(page, "14-submitted")
    page.get_by_role("button", name="查看申报材料").click()  # the submitted version, read-only
    frozen = page.get_by_role("dialog", name=re.compile("已提交的申报材料"))
    expect(frozen).to_contain_text("丘陵山区农机化路径研究")
    expect(frozen).to_contain_text("证件照.jpg")
    expect(frozen.locator("input")).to_have_count(0)
    shot(page, "14b-snapshot")


@pytest.mark.timeout(300)
def test_a_return_is_read_and_answered_in_the_browser_and_the_certificate_downloaded(
    page: Page, probe_stack: ProbeStack
) -> None:
    """Issue 20, Done-when 2: the unit returns the application with a reason (through the API until the reviewer
    workbench lands); the applicant reads the reason in 审核流程, edits and resubmits in the browser; after the
    review (API) downloads the certificate PDF and finds it in 证书查询."""
    journey = Journey(
        probe_stack.base, advance_clock=probe_stack.advance, say=lambda _line: None, applicant="applicant10"
    )
    try:
        journey.submit()
        journey.act("unit_reviewer", "工作单位", "单位审核推荐", "return", reasons=["请补充近三年业绩证明"])

        page.goto("/api/identity/dev/login?return_to=/centre/applications")
        page.get_by_role("button", name="申报人（十）").click()
        card = page.locator(".el-card", has_text="农业技术人员")
        expect(card).to_contain_text("已退回")
        expect(card).to_contain_text("请补充近三年业绩证明")
        card.get_by_text("审核流程").click()
        expect(card.locator(".el-timeline")).to_contain_text("请补充近三年业绩证明")
        shot(page, "15-returned")
        card.get_by_role("button", name="继续申报").click()
        page.get_by_role("menubar", name="信息项").get_by_role("menuitem", name="个人基本信息").click()
        page.locator('[data-field="performance_summary"] textarea').fill("补充：近三年农机推广项目的验收证明已上传。")
        page.get_by_role("button", name="提交").click()
        page.get_by_role("dialog", name="提交").get_by_role("button", name="确定").click()
        expect(page.locator(".el-card", has_text="农业技术人员")).to_contain_text("审核中")

        journey.act("unit_reviewer", "工作单位", "单位审核推荐", comment="同意推荐")
        journey.pass_days(8, "单位公示期满")
        journey.act("department_reviewer", "主管部门（一级）", "主管部门审核")
        journey.act("department_reviewer2", "主管部门（二级）", "主管部门审核")
        journey.act("committee_staff", "评委会", "受理")
        experts = ("expert", "expert2", "expert3")
        ids = [journey.as_(who).get("/api/identity/session").json()["user_id"] for who in experts]
        journey.act("committee_staff", "评委会", "组织专家评审", form={"experts": ids})
        for who in experts:
            journey.act(who, "评审专家", "评议表决")
        journey.pass_days(8, "评审结果公示期满")
        journey.act("authority", "授权管理单位", "确认评审结果")
        journey.act(
            "committee_staff",
            "评委会",
            "提交发证数据",
            form={"document_number": "川职改〔2026〕21号", "issue_date": "2026-12-30"},
        )
        journey.collect()
    finally:
        probe_stack.reset_clock()
    number = journey.outcome.certificate["certificate_no"]
    sent = journey.as_("unit_reviewer").post(
        "/api/applications/units/0193a1f0-0000-7000-8000-00000000a001/messages",
        json={
            "application_id": journey.outcome.application_id,
            "title": "请领取纸质证书",
            "body": "请于下周一到单位人事处领取纸质证书。",
            "sender_name": "成都市示例农业科技有限公司",
        },
    )
    assert sent.status_code == 201, sent.text

    page.get_by_role("menuitem", name=re.compile("我的消息")).click()
    expect(page.locator(".el-table__row", has_text="请领取纸质证书")).to_contain_text("未读")
    shot(page, "15b-messages")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator(".el-table__row", has_text="请领取纸质证书")).to_contain_text("已读")

    page.get_by_role("menuitem", name="我的证书").click()
    row = page.locator(".el-table__row", has_text=number)
    with page.expect_download() as download:
        row.get_by_text("下载电子证书").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    shot(page, "16-certificate")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="证书查询").click()
    page.get_by_placeholder("请输入证书编号").fill(number)
    page.get_by_placeholder("请输入持证人姓名").fill("冯思远")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".el-descriptions")).to_contain_text(number)
    expect(page.locator(".el-descriptions")).to_contain_text("农艺师")
    shot(page, "17-certificate-check")

    # the QR code on the e-certificate opens the portal's landing page, which shows the check's answer
    qr = journey.as_("applicant10").get("/api/certificates/certificates/mine").json()["items"][0]["check_url"]
    assert "/certificate-check/" in qr
    page.goto("/certificate-check/" + qr.rsplit("/", 1)[1])
    expect(page.locator(".el-descriptions")).to_contain_text(number)
    expect(page.get_by_placeholder("请输入证书编号")).to_have_count(0)
    shot(page, "17b-qr-landing")


@pytest.mark.timeout(300)
def test_a_certificate_verification_goes_to_its_review_from_the_browser(page: Page) -> None:
    """Issue 20, Done-when 3 (证书核验): 新增 with a committee of the directory, the certificate's fields (专业 from
    the ones it reviews), 同步社保数据, a scan, 提交审核."""
    page.goto("/api/identity/dev/login?return_to=/centre/certificates")
    page.get_by_role("button", name="申报人（九）").click()
    page.get_by_role("button", name="新增").click()
    created = page.get_by_role("dialog", name="新增证书核验")
    created.locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="成都市农业系列中级评委会0706").first.click()
    created.get_by_role("button", name="确定").click()

    editor = page.get_by_role("dialog", name="证书核验", exact=True)
    expect(editor).to_contain_text("评审组织：成都市农业系列中级评委会0706")
    editor.locator('[data-field="certificate_no"] input').fill("川农中2015-0042")
    editor.locator('[data-field="qualification_name"] input').fill("农艺师")
    editor.locator('[data-field="series"] input').fill("农业技术人员")
    editor.locator('[data-field="level"] input').fill("中级")
    pick(page, editor, "specialty", "农业机械化")  # one the committee reviews
    editor.locator('[data-field="document_number"] input').fill("成职改〔2015〕42号")
    date(page, editor, "issue_date", "2015-12-30")
    editor.locator('[data-field="issuing_authority"] input').fill("成都市人力资源和社会保障局")
    editor.get_by_role("button", name="同步社保数据").click()
    expect(editor).to_contain_text("已同步")
    editor.locator("input[type=file]").set_input_files(
        files=[{"name": "职称证书.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(editor).to_contain_text("职称证书.pdf")
    shot(page, "18-verification")
    editor.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核，材料将提交至评审组织的组建单位审核")).to_be_visible()
    expect(page.locator(".verifications .el-table__row", has_text="川农中2015-0042")).to_contain_text("审核中")


@pytest.mark.timeout(300)
def test_initial_determination_needs_no_committee_and_is_submitted(page: Page) -> None:
    """Issue 20, Done-when 3 (职称初定): 评价方式 职称认定 — the form says 无需选择评委会, and the application has
    初定's smaller set of sections, filled and submitted in the browser."""
    page.goto("/api/identity/dev/login?return_to=/centre/new")
    page.get_by_role("button", name="申报人（八）").click()
    page.locator('[data-field="unit_id"]').get_by_role("button", name="选择").click()
    pick_demo_unit(page)
    choose(page, "method", "职称认定")
    choose(page, "series", "农业技术人员")
    choose(page, "level", "助理级")
    choose(page, "specialty", "农业机械化")
    choose(page, "qualification", "助理农艺师")
    expect(page.get_by_text("无需选择评委会")).to_be_visible()
    expect(page.get_by_role("button", name="选择评委会")).to_have_count(0)
    shot(page, "19-initial-settings")
    page.get_by_role("button", name="立即申报").click()
    sections = page.get_by_role("menubar", name="信息项")
    expect(sections.get_by_role("menuitem", name="个人基本信息")).to_be_visible()
    expect(sections.get_by_role("menuitem", name="业绩成果")).to_have_count(0)  # 初定 has no 业绩成果
    expect(sections.get_by_role("menuitem", name="评委会需求材料")).to_have_count(0)
    fill_common_sections(page, sections, phone="13800000028")
    page.get_by_role("button", name="提交").click()
    page.get_by_role("dialog", name="提交").get_by_role("button", name="确定").click()
    expect(page.locator(".el-card", has_text="农业技术人员")).to_contain_text("审核中")


@pytest.mark.timeout(300)
def test_an_out_of_province_confirmation_goes_to_its_review_from_the_browser(page: Page) -> None:
    """Issue 20, Done-when 3 (外省职称确认, §2.7): 填写信息 from the schema, the photo and the proofs, 提交审核."""
    page.goto("/api/identity/dev/login?return_to=/centre/out-of-province")
    page.get_by_role("button", name="申报人（七）").click()
    page.get_by_role("button", name="新增").click()
    pick_demo_unit(page)
    expect(page.get_by_text("填写信息")).to_be_visible()

    pick(page, page, "highest_education", "硕士研究生")
    texts = {
        "highest_education_school": "西北农林科技大学",
        "major": "农业工程",
        "former_employer": "陕西省某农业技术推广站",
        "current_employer": "成都市示例农业科技有限公司",
        "original_title": "高级农艺师",
        "original_title_specialty": "农业机械化",
        "original_committee": "陕西省农业技术人员高级职称评审委员会",
        "proposed_series": "农业技术人员",
        "proposed_specialty": "农业机械化",
        "proposed_title": "高级农艺师",
    }
    for field, value in texts.items():
        page.locator(f'[data-field="{field}"] input').fill(value)
    date(page, page, "original_title_obtained", "2019-12-20")
    page.locator('[data-field="expertise"] textarea').fill("丘陵山区农机化")
    page.locator('[data-field="work_since_joining"] textarea').fill("主持两项省级农机推广项目。")
    uploads = page.locator("input[type=file]")
    uploads.nth(0).set_input_files(files=[{"name": "照片.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    expect(page.get_by_text("照片.jpg")).to_be_visible()
    uploads.nth(1).set_input_files(files=[{"name": "原职称证书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(page.get_by_text("原职称证书.pdf")).to_be_visible()
    shot(page, "20-out-of-province")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    expect(page.locator(".el-table__row", has_text="外省职称确认")).to_contain_text("审核中")


def test_an_ended_session_goes_to_login_and_back_and_lists_page(page: Page) -> None:
    """Session expiry sends the user to log in and returns to the same page; lists page (评审委员会: 10 条/页)."""
    page.goto("/committees")
    first = page.locator(".el-table__body .el-table__row").first.inner_text()
    expect(page.locator(".el-pagination")).to_contain_text("共")
    page.locator(".el-pagination .number", has_text="2").click()
    expect(page.locator(".el-table__body .el-table__row").first).not_to_have_text(first)

    page.goto("/api/identity/dev/login?return_to=/centre/messages")
    page.get_by_role("button", name="申报人（六）").click()
    expect(page.get_by_text("我的消息（未读")).to_be_visible()
    page.context.clear_cookies()  # the session ended (expired, or logged out elsewhere)
    page.get_by_role("menuitem", name="我的申报").click()
    page.wait_for_url(re.compile(r"/api/identity/dev/login\?return_to=%2Fcentre%2Fapplications"))
    page.get_by_role("button", name="申报人（六）").click()
    expect(page).to_have_url(re.compile(r"/centre/applications$"))
    expect(page.get_by_role("heading", name="我的申报")).to_be_visible()
