"""The demo application's content: a 农艺师 (中级) application by the demo applicant of the demo unit.

Shared by `make demo` and the tests, so both fill in exactly what a real applicant would.
"""

from __future__ import annotations

from typing import Any

UNIT = "0193a1f0-0000-7000-8000-00000000a001"
PDF = b"%PDF-1.7\n" + b"0" * 2048 + b"\n%%EOF\n"

SECTIONS: dict[str, Any] = {
    "basic_info": {
        "gender": "男",
        "mobile_phone": "13534524568",
        "contact_phone": "18888888888",
        "birth_date": "1985-06-03",
        "ethnicity": "汉族",
        "work_start_date": "2008-07-01",
        "political_status": "中国共产党党员",
        "performance_summary": "参与农业机械化推广项目十余项。",
    },
    "education": [
        {
            "enrolled": "2004-09-01",
            "graduated": "2008-07-01",
            "school": "四川农业大学",
            "major": "农业机械化",
            "degree_level": "大学本科",
            "degree": "学士",
            "years": 4,
            "before_work": True,
        }
    ],
    "qualifications": [
        {
            "title_name": "助理农艺师",
            "title_level": "助理级",
            "title_specialty": "农业机械化",
            "issuer": "成都市人力资源和社会保障局",
            "obtained": "2012-12-01",
            "document_no": "成人社〔2012〕88号",
            "current_specialty": "农业机械化",
            "appointed_post": "助理农艺师",
            "appointed": "2013-01-01",
        }
    ],
    "titles_held": [{"name": "助理农艺师", "level": "助理级", "obtained": "2012-12-01"}],
    "work_history": [
        {
            "start": "2008-07-01",
            "employer": "成都市示例农业科技有限公司",
            "technical_post": "助理农艺师",
            "content": "负责农机推广与技术培训。",
        }
    ],
    "social_groups": [{"name": "四川省农业机械学会", "start": "2015-01-01", "post": "会员"}],
    "continuing_education": [
        {
            "start": "2025-03-01",
            "end": "2025-03-05",
            "organiser": "四川省农业农村厅",
            "place": "成都",
            "content": "智慧农机培训",
        }
    ],
    "assessments": [{"year": 2024, "result": "合格"}, {"year": 2025, "result": "优秀"}],
    "exams": [],
}


def settings(
    committee_id: str | None,
    method: str = "SHEHUIHUA",
    level: str = "ZHONGJI",
    qualification: str = "NONGYE_ZHONGJI_NONGYI",
) -> dict[str, Any]:
    return {
        "unit_id": UNIT,
        "year": 2026,
        "method": method,
        "series": "NONGYE",
        "level": level,
        "specialty": "JIXIEHUA",
        "qualification": qualification,
        "committee_id": committee_id,
        "category": "正常申报",
    }


def paper(template_code: str) -> dict[str, Any]:
    """A 论文 under the committee's counting clause (业绩成果)."""
    return {
        "template_code": template_code,
        "name": "丘陵山区农机化路径研究",
        "completed_on": "2024-03-01",
        "category": "论文",
        "journal": "四川农业科技",
        "journal_no": "CN51-1117/S",
        "author_rank": 1,
        "words_thousands": 6.5,
    }


# the personal records' samples (外省职称确认, 专技人才统计), and a photo: make chaos and the tests use them
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 4000 + b"\xff\xd9"
OUT_OF_PROVINCE = {
    "highest_education": "硕士研究生",
    "highest_education_school": "西北农林科技大学",
    "major": "农业工程",
    "former_employer": "陕西省某农业技术推广站",
    "current_employer": "成都市示例农业科技有限公司",
    "original_title": "高级农艺师",
    "original_title_specialty": "农业机械化",
    "original_title_obtained": "2019-12-20",
    "original_committee": "陕西省农业技术人员高级职称评审委员会",
    "proposed_series": "农业技术人员",
    "proposed_specialty": "农业机械化",
    "proposed_title": "高级农艺师",
    "expertise": "丘陵山区农机化",
    "work_since_joining": "主持两项省级农机推广项目。",
}
TALENT = {
    "year": 2026,
    "post": "农业技术推广",
    "post_grade": 9,
    "title_name": "农艺师",
    "title_level": "中级",
    "specialty": "农业机械化",
    "highest_education": "大学本科",
    "work_start_date": "2008-07-01",
    "on_post": True,
}
