"""Adapters: the Word templates an applicant downloads, fills in and uploads again — 一线医务人员职称申报推荐函
(卫生技术信息, 抗疫一线医务人员情况: "[模板下载] [推荐信上传]"). Built with python-docx (once per process), so there
is no binary file to keep beside the code."""

from __future__ import annotations

import io
from functools import cache

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_LETTER_ROWS = (
    ("申报人姓名", ""),
    ("工作单位", ""),
    ("申报专业及资格", ""),
    ("抗疫一线工作时间", "    年  月  日 至     年  月  日"),
    ("工作地点及岗位", ""),
    ("主要工作及成效", ""),
)


def _song(document: object) -> None:
    style = document.styles["Normal"]  # type: ignore[attr-defined]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


class WordTemplates:
    """The DocumentTemplates port: Word (.docx) files."""

    media_type = DOCX

    def recommendation_letter(self) -> bytes:
        return recommendation_letter()


@cache
def recommendation_letter() -> bytes:
    """一线医务人员职称申报推荐函: the applicant's 抗疫一线 work, the unit's recommendation, seal and date."""
    document = Document()
    _song(document)
    title = document.add_heading("一线医务人员职称申报推荐函", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("（新冠肺炎疫情防控一线医务人员职称申报使用，由所在单位出具）")
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, hint in _LETTER_ROWS:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, hint
    document.add_paragraph()
    document.add_paragraph(
        "兹推荐该同志按抗疫一线医务人员职称评审倾斜政策申报职称。上述情况属实，本单位对推荐内容的真实性负责。"
    )
    document.add_paragraph("推荐单位意见：")
    document.add_paragraph("\n\n")
    signed = document.add_paragraph("推荐单位（盖章）：                    \n年    月    日")
    signed.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.core_properties.title = "一线医务人员职称申报推荐函"
    document.core_properties.author = "职称评审管理系统"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
