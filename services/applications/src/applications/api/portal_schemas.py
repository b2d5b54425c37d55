"""API: request and response bodies of the portal (通知公告, 政策文件, 评审公示; docs/decisions/0020)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zc_http import IsoDateTime, Paged

RESPONSE = ConfigDict(extra="forbid")
NOT_BLANK = r"\S"  # at least one character that is not white space

Kind = Literal["notice", "policy", "publicity"]


# -- requests ---------------------------------------------------------------------------------------------------


class PublicityEntryWrite(BaseModel):
    """One person of a 评审公示. The name is masked (张*) before it is stored; the clear name is never kept."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=30, pattern=NOT_BLANK, description="姓名（保存前脱敏，只保留首字）")
    unit: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK, description="工作单位")
    specialty: str | None = Field(default=None, max_length=60, description="专业")
    qualification: str = Field(min_length=1, max_length=60, pattern=NOT_BLANK, description="资格名称")


class ArticleEdit(BaseModel):
    """What a revision may change: the kind, committee and year stay as published."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK, description="标题")
    body: str = Field(min_length=1, max_length=20000, pattern=NOT_BLANK, description="正文（纯文本）")
    publisher: str = Field(min_length=2, max_length=100, pattern=NOT_BLANK, description="发布单位")
    entries: list[PublicityEntryWrite] = Field(
        default_factory=list, max_length=1000, description="公示人员（仅评审公示）"
    )


class ArticleCreate(ArticleEdit):
    kind: Kind = Field(description="类型：notice 通知公告，policy 政策文件，publicity 评审公示")
    committee_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="评委会（评审公示必填；不填为全省的内容，仅管理员）"
    )
    year: int | None = Field(default=None, ge=2000, le=2100, description="评审年度（评审公示必填）")


# -- responses --------------------------------------------------------------------------------------------------


class ArticleSummary(BaseModel):
    """An article as a list shows it."""

    model_config = RESPONSE

    id: str
    kind: Kind = Field(description="类型")
    kind_name: str = Field(title="类型")
    title: str = Field(title="标题")
    publisher: str = Field(title="发布单位")
    committee_id: str | None = Field(description="评委会")
    committee_name: str | None = Field(title="评委会")
    year: int | None = Field(title="评审年度")
    published_at: IsoDateTime = Field(title="发布时间")


class ArticlePage(Paged):
    model_config = RESPONSE

    items: list[ArticleSummary] = Field(title="内容")


class PublicityEntry(BaseModel):
    """One person of a 评审公示, the name masked."""

    model_config = RESPONSE

    no: int = Field(title="序号")
    name: str = Field(title="姓名", description="已脱敏，只保留首字，如 张*")
    unit: str = Field(title="工作单位")
    specialty: str | None = Field(title="专业")
    qualification: str = Field(title="资格名称")


class Article(ArticleSummary):
    """An article to read: its text, and for a 评审公示 the people it lists."""

    body: str = Field(title="正文", description="纯文本（换行即分段），不是 HTML")
    entries: list[PublicityEntry] = Field(title="公示人员")
    updated_at: IsoDateTime = Field(title="更新时间")
    version: int = Field(description="当前版本号：修改时以 If-Match 发送")


class ManagedArticle(Article):
    """An article as its publisher sees it after a change."""

    withdrawn_at: IsoDateTime | None = Field(title="撤回时间")
    author: str = Field(description="发布人（用户标识）")


# a download of the 个人操作说明 (Markdown text)
GUIDE: dict[str, Any] = {
    "responses": {200: {"content": {"text/markdown": {}}, "description": "个人操作说明（Markdown 文本）"}},
}
