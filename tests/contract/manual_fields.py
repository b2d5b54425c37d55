"""The manual's fields (issue 19, "Typed API"): every field that the personal manual's screens show for an
information section (/work/shared/seed/personal-manual.zh.txt, 个人端操作手册 2023-08), one row each, with the
line it is read from. test_manual_fields.py checks each row against the section's JSON Schema.

How a screen line is read:
- the label is the field's Chinese name, which is the property's `title` in the schema;
- "0 / N" (or "13 / 50": what is typed / the limit) is a maximum length N -> `max_length`; no counter -> None;
- "*" before the label is a required field -> `required=True`; no star -> False. Where the manual's text is a
  description of a screenshot that shows no marks at all (Fig. 2.2.5, 2.2.21, 2.2.33's 荣誉惩罚 table, 2.2.38,
  2.7.1–2.7.2), the row says `required=None`: the manual does not tell, and the test leaves it alone;
- "请选择" or "(dropdown)" after the label is a select -> `choice=True`: the schema must give the options
  (`enum`) or be a yes/no (boolean).

A field whose screen appears twice (申报评审 and 职称初定 show the same 个人基本信息 and 工作经历) has a row for
each screen. Sections whose screens the manual does not show (取得职称职业技能等级情况 Fig. 2.2.11–2.2.12 and
2.2.44–2.2.45, 考试信息 Fig. 2.2.26–2.2.27, the other three 中小学教师 sub-tables, 专技人才统计 Fig. 2.6.1–2.6.2)
have no rows. 业绩成果 differs from committee to committee (line 457); the manual shows one form, 论文著作.
Where the schema knowingly differs from the manual, `EXCEPTIONS` says how and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ManualField:
    section: str  # the section's name in the API (a sub-table: "teacher_info.moral_education"), or a record kind
    label: str  # as the manual writes it
    max_length: int | None  # the "0 / N" counter
    required: bool | None  # the star; None where the screen shows no marks at all
    line: int  # in personal-manual.zh.txt
    choice: bool = False  # a select (请选择 / dropdown)


@dataclass(frozen=True)
class Excepted:
    """How the schema differs from the manual for one (section, label), and why."""

    reason: str
    title: str | None = None  # the schema's title for this label, where it is not the label itself
    absent: bool = False  # not a property of the section's schema at all
    optional: bool = False  # starred in the manual, not required by the section's schema
    free_text: bool = False  # a select in the manual, text or a bounded number in the schema


F = ManualField

# --- 申报评审: 个人申报信息 (§2.2.1.1.2) --------------------------------------------------------------------------
BASIC_INFO_REVIEW = [  # Fig. 2.2.5 (a description of the screenshot: no stars)
    F("basic_info", "证件类型", None, None, 261, choice=True),
    F("basic_info", "证件号码", None, None, 262),
    F("basic_info", "姓名", None, None, 263),
    F("basic_info", "曾用名", 10, None, 264),
    F("basic_info", "性别", None, None, 265, choice=True),
    F("basic_info", "出生日期", None, None, 266),
    F("basic_info", "国籍", None, None, 267, choice=True),
    F("basic_info", "民族", None, None, 268, choice=True),
    F("basic_info", "手机号码", 11, None, 269),
    F("basic_info", "联系电话", 11, None, 270),
    F("basic_info", "户籍地址", 50, None, 271),
    F("basic_info", "出生地", 50, None, 272),
    F("basic_info", "电子信箱", 20, None, 273),
    F("basic_info", "常住地", 50, None, 274),
    F("basic_info", "邮政编码", 20, None, 275),
    F("basic_info", "行政职务", 20, None, 276),
    F("basic_info", "行政职务级别", None, None, 277, choice=True),
    F("basic_info", "行政职务任职时间", None, None, 278),
    F("basic_info", "参加工作时间", None, None, 279),
    F("basic_info", "政治面貌", None, None, 280, choice=True),
    F("basic_info", "现任共产党(共青团)职务", 20, None, 281),
    F("basic_info", "加入共产党(共青团)时间", None, None, 282),
    F("basic_info", "职称外语情况", 10, None, 283),
    F("basic_info", "职称计算机情况", 10, None, 284),
    F("basic_info", "业绩综述", None, None, 285),
]

EDUCATION = [  # Fig. 2.2.8
    F("education", "入学时间", None, True, 314),
    F("education", "毕业时间", None, True, 314),
    F("education", "毕业院校", 30, True, 314),
    F("education", "所学专业", 30, True, 316),
    F("education", "学历", None, True, 316, choice=True),
    F("education", "学位", None, True, 316, choice=True),
    F("education", "学制", None, True, 318, choice=True),
    F("education", "是否工作前学历", None, True, 318, choice=True),
    F("education", "备注", None, False, 320),
]

QUALIFICATIONS = [  # Fig. 2.2.10
    F("qualifications", "现职称名称", 50, True, 345),
    F("qualifications", "现职称级别", None, True, 345, choice=True),
    F("qualifications", "现职称专业", 50, True, 345),
    F("qualifications", "发证单位", 50, True, 347),
    F("qualifications", "现职称取得时间", None, True, 347),
    F("qualifications", "职称文件文号", 50, True, 347),
    F("qualifications", "现从事专业", 50, True, 349),
    F("qualifications", "现聘任职称(岗位)", 50, True, 349),
    F("qualifications", "现聘任时间", None, True, 349),
]

WORK_HISTORY_REVIEW = [  # Fig. 2.2.16
    F("work_history", "开始日期", None, True, 399),
    F("work_history", "结束日期", None, False, 399),
    F("work_history", "工作单位", 50, True, 399),
    F("work_history", "行政职务", 20, False, 401),
    F("work_history", "专业技术职务", 20, False, 401),
    F("work_history", "聘用岗位", 20, False, 401),
    F("work_history", "工作内容", 500, True, 403),
]

ACHIEVEMENT_PAPER = [  # Fig. 2.2.19: 新增论文著作
    F("achievements", "名称", 50, True, 437),
    F("achievements", "发表时间", None, True, 437),
    F("achievements", "类别", None, True, 439, choice=True),
    F("achievements", "刊物名称", 50, True, 441),
    F("achievements", "刊号", 50, True, 443),
    F("achievements", "作者排名", None, True, 443, choice=True),
    F("achievements", "本人完成字数", None, True, 445),
    F("achievements", "出版、登载获奖或在学术会议上交流情况", 200, False, 447),
]

SOCIAL_GROUPS = [  # Fig. 2.2.21 (a description of the screenshot: no stars; 结束时间 "不填即为至今")
    F("social_groups", "社会团体名称", 30, None, 469),
    F("social_groups", "开始时间", None, None, 469),
    F("social_groups", "结束时间", None, False, 469),
    F("social_groups", "任何职务", 30, None, 469),
]

TEACHER_INFO = [  # Fig. 2.2.29, then the four sub-tables (Fig. 2.2.30 and the list on line 509)
    F("teacher_info", "申报学段", 50, True, 519),
    F("teacher_info", "申报学科", 50, True, 519),
    F("teacher_info", "参加教育工作时间", None, True, 519),
    F("teacher_info", "有何社会兼职", 50, True, 521),
    F("teacher_info", "最高学历学位", None, True, 521),
    F("teacher_info", "最高学历取得时间", None, True, 521),
    F("teacher_info", "教师资格证学段", 20, True, 523),
    F("teacher_info", "教师资格证学科", 50, True, 523),
    F("teacher_info", "教师资格证证明材料", None, False, 523),
    F("teacher_info", "是否农村教师", None, False, 525),
    F("teacher_info", "班主任或一线教师", None, False, 525),
    F("teacher_info", "是否新时代卓越校长培养计划学员", None, False, 525),
    F("teacher_info", "是否升级名师工作室领衔人或成员", None, False, 527),
    F("teacher_info", "是否承担四川云教主播教学等相关工作", None, False, 527),
    F("teacher_info", "学生作业批改和家访情况", 200, True, 529),
    F("teacher_info", "现任职务", 20, False, 533),
    F("teacher_info", "是否以普通教师身份申报", None, False, 533),
    F("teacher_info", "信息技术应用能力", None, False, 535),
    F("teacher_info", "从事学生思想政治工作经历及考核结果", None, False, 541),
    F("teacher_info", "任教后承担示范课、公开课、研究课或专题讲座情况", None, False, 509),
    F("teacher_info", "在农村（薄弱、艰苦边远）学校支教或从教情况", None, False, 509),
    F("teacher_info", "任职后指导、培养教师情况", None, False, 509),
]

MORAL_EDUCATION = [  # Fig. 2.2.31: 新增从事学生思想政治工作经历及考核结果
    F("teacher_info.moral_education", "开始时间", None, True, 550),
    F("teacher_info.moral_education", "结束时间", None, True, 550),
    F("teacher_info.moral_education", "考核结果", None, True, 550),
    F("teacher_info.moral_education", "工作内容", 200, True, 552),
    F("teacher_info.moral_education", "成绩及效果", 200, True, 554),
]

HEALTH_INFO = [  # Fig. 2.2.33
    F("health_info", "所在医疗卫生机构情况", None, True, 577),
    F("health_info", "所在医疗卫生机构性质", None, True, 577),
    F("health_info", "所在科室", None, True, 579),
    F("health_info", "参加工作时间", None, False, 579),
    F("health_info", "拟评资格", None, True, 579),
    F("health_info", "专业技术工作报告", None, False, 581),
    F("health_info", "申报专业", None, False, 585),
    F("health_info", "是否破格", None, True, 585),
    F("health_info", "是否对口支援", None, False, 589),
    F("health_info", "开始时间", None, False, 589),
    F("health_info", "终止时间", None, False, 589),
    F("health_info", "受援单位", None, False, 591),
    F("health_info", "对口支援类型", None, False, 591),
    F("health_info", "是否援外", None, True, 595),
    F("health_info", "是否援藏", None, True, 595),
    F("health_info", "是否援疆", None, True, 595),
    F("health_info", "是否为凉山州脱贫攻坚综合帮扶工作队队员", None, True, 597),
    F("health_info", "人员类别", None, False, 601),
    F("health_info", "申报资历倾斜政策", None, False, 601),
    F("health_info", "业绩成果代替论文综述政策", None, False, 601),
    F("health_info", "免于参加学历破格、转岗考试政策", None, False, 603),
    F("health_info", "一线医务人员职称申报推荐函", None, False, 603),
    F("health_info", "参加免疫防控工作成果", 200, False, 605),
    F("health_info", "荣誉惩罚", None, False, 607),
    F("health_info", "任现职以来医疗差错事故及收受红包或受行政处分情况", 200, False, 611),
]

HONOURS = [  # Fig. 2.2.33, the 荣誉惩罚 table's columns (no marks)
    F("health_info.honours", "项目名称", None, None, 609),
    F("health_info.honours", "授权单位", None, None, 609),
    F("health_info.honours", "取得时间", None, None, 609),
]

# --- 职称初定: 个人申报信息 (§2.2.1.2.2) ------------------------------------------------------------------------
BASIC_INFO_INITIAL = [  # Fig. 2.2.38 (a description of the screenshot: no stars)
    F("basic_info", "证件类型", None, None, 689),
    F("basic_info", "证件号码", None, None, 690),
    F("basic_info", "姓名", None, None, 691),
    F("basic_info", "曾用名", 10, None, 692),
    F("basic_info", "性别", None, None, 693),
    F("basic_info", "出生日期", None, None, 694),
    F("basic_info", "国籍", None, None, 695),
    F("basic_info", "民族", None, None, 696),
    F("basic_info", "手机号码", 11, None, 697),
    F("basic_info", "联系电话", 11, None, 698),
    F("basic_info", "户籍地址", 50, None, 699),
    F("basic_info", "出生地", 50, None, 700),
    F("basic_info", "常住地", 50, None, 701),
    F("basic_info", "电子邮箱", 20, None, 702),
    F("basic_info", "邮政编码", 20, None, 703),
    F("basic_info", "行政职务", 20, None, 704),
    F("basic_info", "行政职务级别", None, None, 705, choice=True),
    F("basic_info", "行政职务任职时间", None, None, 706),
    F("basic_info", "参加工作时间", None, None, 707),
    F("basic_info", "政治面貌", None, None, 708),
    F("basic_info", "现任共产党(共青团)职务", 20, None, 709),
    F("basic_info", "加入共产党(共青团)时间", None, None, 710),
    F("basic_info", "职称外语情况", 10, None, 711),
    F("basic_info", "职称计算机情况", 10, None, 712),
    F("basic_info", "业绩综述", None, None, 713),
]

WORK_HISTORY_INITIAL = [  # Fig. 2.2.49
    F("work_history", "开始日期", None, True, 803),
    F("work_history", "结束日期", None, False, 803),
    F("work_history", "工作单位", 50, True, 803),
    F("work_history", "行政职务", 20, False, 805),
    F("work_history", "专业技术职务", 20, False, 805),
    F("work_history", "聘用岗位", 20, False, 805),
    F("work_history", "工作内容", 500, True, 807),
]

CONTINUING_EDUCATION = [  # Fig. 2.2.51
    F("continuing_education", "开始时间", None, True, 827),
    F("continuing_education", "结束时间", None, True, 827),
    F("continuing_education", "主办单位", None, True, 829),
    F("continuing_education", "学习地点", None, True, 829),
    F("continuing_education", "证明人", None, False, 831),
    F("continuing_education", "专业或主要内容", None, True, 833),
]

ASSESSMENTS = [  # Fig. 2.2.53
    F("assessments", "考核年度", None, True, 859),
    F("assessments", "考核结果", None, True, 861),
]

# --- 外省职称确认 (§2.7): Fig. 2.7.1, the last field's label in full from Fig. 2.7.2 (descriptions: no marks) ----
OUT_OF_PROVINCE = [
    F("out_of_province", label, None, None, 998)
    for label in (
        "证件类型", "证件号码", "姓名", "性别", "最高学历", "最高学历毕业院校", "所学专业", "原工作单位", "现工作单位",
        "原高级职称", "原高级职称专业", "原高级职称取得时间", "原高级职称评委会全称", "拟确认高级职称系列",
        "拟确认高级职称专业", "拟确认高级职称名称", "业务专长",
    )
] + [F("out_of_province", "到现工作单位后主要专业技术工作情况", None, None, 1002)]  # fmt: skip

MANUAL_FIELDS: list[ManualField] = [
    *BASIC_INFO_REVIEW,
    *EDUCATION,
    *QUALIFICATIONS,
    *WORK_HISTORY_REVIEW,
    *ACHIEVEMENT_PAPER,
    *SOCIAL_GROUPS,
    *TEACHER_INFO,
    *MORAL_EDUCATION,
    *HEALTH_INFO,
    *HONOURS,
    *BASIC_INFO_INITIAL,
    *WORK_HISTORY_INITIAL,
    *CONTINUING_EDUCATION,
    *ASSESSMENTS,
    *OUT_OF_PROVINCE,
]

_IDENTITY = "comes from the identity platform (统一身份认证), not typed in (the notes on lines 293 and 721)"
_ATTACHMENT = "an upload (附件材料), sent through the attachments API, not a field of the section's body"
_PER_TEMPLATE = (
    "starred on the 论文著作 form only; the section's body serves every committee's template form (line 457: "
    "the forms differ), so its schema cannot require it: the save checks it by the template's form "
    "(applications.domain.achievements.FORMS, listed per template in the notice as required_fields)"
)

EXCEPTIONS: dict[tuple[str, str], Excepted] = {
    ("basic_info", "证件类型"): Excepted(_IDENTITY, absent=True),
    ("basic_info", "证件号码"): Excepted(_IDENTITY, absent=True),
    ("basic_info", "姓名"): Excepted(_IDENTITY, absent=True),
    ("basic_info", "电子邮箱"): Excepted(
        "Fig. 2.2.38 says 电子邮箱 where Fig. 2.2.5 says 电子信箱 for the same field; the schema keeps 电子信箱",
        title="电子信箱",
    ),
    ("out_of_province", "证件类型"): Excepted(_IDENTITY, absent=True),
    ("out_of_province", "证件号码"): Excepted(_IDENTITY, absent=True),
    ("out_of_province", "姓名"): Excepted(_IDENTITY, absent=True),
    ("out_of_province", "性别"): Excepted(_IDENTITY, absent=True),
    ("teacher_info", "教师资格证证明材料"): Excepted(_ATTACHMENT, absent=True),
    ("health_info", "专业技术工作报告"): Excepted(_ATTACHMENT, absent=True),
    ("health_info", "一线医务人员职称申报推荐函"): Excepted(
        _ATTACHMENT + " (a template to download, fill in and upload)", absent=True
    ),
    ("health_info", "所在医疗卫生机构情况"): Excepted(
        "the screen shows 级别 after the label (a placeholder or a second label); the title keeps both",
        title="所在医疗卫生机构情况（级别）",
    ),
    ("achievements", "发表时间"): Excepted(
        "the paper form's label; the same date is the 完成时间 of the other template forms", title="发表时间/完成时间"
    ),
    ("achievements", "本人完成字数"): Excepted(
        "the form shows the unit 千字 beside the input, the title carries it; " + _PER_TEMPLATE,
        title="本人完成字数（千字）",
        optional=True,
    ),
    ("achievements", "类别"): Excepted(
        _PER_TEMPLATE + "; a select whose options the manual does not show, so free text (20 characters)",
        optional=True,
        free_text=True,
    ),
    ("achievements", "刊物名称"): Excepted(_PER_TEMPLATE, optional=True),
    ("achievements", "刊号"): Excepted(_PER_TEMPLATE, optional=True),
    ("achievements", "作者排名"): Excepted(
        _PER_TEMPLATE + "; a select of ranks, which the schema has as an integer from 1 to 50",
        optional=True,
        free_text=True,
    ),
}
