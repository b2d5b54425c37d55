"""Domain: the portal's public articles — 通知公告, 政策文件 and 评审公示 (docs/decisions/0020)."""

from __future__ import annotations

from applications.domain.errors import DomainError

NOTICE, POLICY, PUBLICITY = "notice", "policy", "publicity"
KIND_NAMES = {NOTICE: "通知公告", POLICY: "政策文件", PUBLICITY: "评审公示"}


class ArticleNotFoundError(DomainError):
    code = "portal.not_found"
    status_hint = 404


class ArticleRejectedError(DomainError):
    code = "portal.invalid"
    status_hint = 422


class ArticleForbiddenError(DomainError):
    code = "auth.forbidden"
    status_hint = 403


class ArticleConflictError(DomainError):
    code = "portal.conflict"
    status_hint = 409


def mask_name(name: str) -> str:
    """A name in a public list keeps its first character only: 张三 -> 张*, 欧阳娜娜 -> 欧***. Masking a masked
    name changes nothing, so a list sent back as it was read stays the same."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1)


def check_article(*, kind: str, committee_id: str | None, year: int | None, entries: int) -> None:
    """A 评审公示 is a committee's, for one year's activity, and lists at least one person; only it lists people."""
    if kind == PUBLICITY:
        if committee_id is None:
            raise ArticleRejectedError("评审公示须指明评委会", field="committee_id")
        if year is None:
            raise ArticleRejectedError("评审公示须指明评审年度", field="year")
        if entries == 0:
            raise ArticleRejectedError("评审公示须列出公示人员", field="entries")
    elif entries:
        raise ArticleRejectedError(f"{KIND_NAMES[kind]}不列出公示人员", field="entries")
