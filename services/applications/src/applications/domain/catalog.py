"""Domain: the title catalog (series -> levels -> qualification names, specialties) and its cascade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from applications.domain.errors import DomainError

EXAM_MODES = ("review_only", "exam_plus_review", "exam_only")
DEFAULT_INITIAL_DETERMINATION_LEVELS = ("YUANJI", "ZHULI", "ZHONGJI")  # 初定 stops at 中级 (BRIEF §4)


class InvalidCatalogError(DomainError):
    code = "catalog.invalid"
    status_hint = 422


class InvalidChoiceError(DomainError):
    code = "application_settings.invalid"
    status_hint = 422


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    rank: int


@dataclass(frozen=True)
class Qualification:
    code: str
    name: str
    series: str
    level: str
    specialties: frozenset[str] | None  # None: every specialty of the series


@dataclass(frozen=True)
class LevelRule:
    level: str
    exam_mode: str
    exam_record_required: bool


@dataclass(frozen=True)
class Specialty:
    code: str
    name: str


@dataclass(frozen=True)
class Series:
    code: str
    name: str
    special_section: str | None
    levels: tuple[LevelRule, ...]
    specialties: tuple[Specialty, ...]

    def level_rule(self, level: str) -> LevelRule | None:
        return next((r for r in self.levels if r.level == level), None)


@dataclass(frozen=True)
class CascadeOptions:
    """What each drop-down may still offer, given the other choices (the manual's 相互关联 selects)."""

    series: list[Series]
    levels: list[Level]
    specialties: list[Specialty]
    qualifications: list[Qualification]


@dataclass(frozen=True)
class Catalog:
    version: int
    levels: tuple[Level, ...]
    series: tuple[Series, ...]
    qualifications: tuple[Qualification, ...]
    initial_determination_levels: frozenset[str] = field(
        default_factory=lambda: frozenset(DEFAULT_INITIAL_DETERMINATION_LEVELS)
    )

    @classmethod
    def from_document(cls, version: int, doc: Mapping[str, Any]) -> Catalog:
        """Parse and check a catalog document (the reference-data file or an admin's new version)."""
        try:
            levels = tuple(Level(str(lv["code"]), str(lv["name"]), int(lv["rank"])) for lv in doc["levels"])
            level_codes = {lv.code for lv in levels}
            series_list: list[Series] = []
            quals: list[Qualification] = []
            for s in doc["series"]:
                specialties = tuple(Specialty(str(sp["code"]), str(sp["name"])) for sp in s.get("specialties", []))
                sp_codes = {sp.code for sp in specialties}
                rules = []
                for lv in s["levels"]:
                    if lv["level"] not in level_codes:
                        raise InvalidCatalogError(f"系列“{s['name']}”的层级 {lv['level']} 不存在", field="levels")
                    if lv["exam_mode"] not in EXAM_MODES:
                        raise InvalidCatalogError(f"未知的评价方式 {lv['exam_mode']}", field="exam_mode")
                    rules.append(LevelRule(lv["level"], lv["exam_mode"], bool(lv.get("exam_record_required"))))
                    for q in lv.get("qualifications", []):
                        narrowed = q.get("specialties")
                        if narrowed is not None and not set(narrowed) <= sp_codes:
                            raise InvalidCatalogError(f"资格名称“{q['name']}”引用了不存在的专业", field="specialties")
                        quals.append(
                            Qualification(
                                str(q["code"]),
                                str(q["name"]),
                                str(s["code"]),
                                str(lv["level"]),
                                frozenset(narrowed) if narrowed is not None else None,
                            )
                        )
                series_list.append(
                    Series(str(s["code"]), str(s["name"]), s.get("special_section"), tuple(rules), specialties)
                )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DomainError):
                raise
            raise InvalidCatalogError(f"职称目录格式不正确：缺少或错误的字段 {exc}", field="catalog") from None
        codes = [q.code for q in quals]
        if len(codes) != len(set(codes)):
            raise InvalidCatalogError("资格名称编码重复", field="qualifications")
        if len({s.code for s in series_list}) != len(series_list):
            raise InvalidCatalogError("系列编码重复", field="series")
        init = doc.get("initial_determination_levels", DEFAULT_INITIAL_DETERMINATION_LEVELS)
        return cls(version, levels, tuple(series_list), tuple(quals), frozenset(init))

    # --- lookups -------------------------------------------------------------------------------------
    def get_series(self, code: str) -> Series | None:
        return next((s for s in self.series if s.code == code), None)

    def get_qualification(self, code: str) -> Qualification | None:
        return next((q for q in self.qualifications if q.code == code), None)

    def get_level(self, code: str) -> Level | None:
        return next((lv for lv in self.levels if lv.code == code), None)

    # --- the cascade ---------------------------------------------------------------------------------
    def _candidates(
        self, series: str | None, level: str | None, specialty: str | None, qualification: str | None
    ) -> list[tuple[Series, Qualification, Specialty]]:
        """Every consistent (series, qualification, specialty) triple that matches the given choices."""
        out = []
        for q in self.qualifications:
            if (
                (series and q.series != series)
                or (level and q.level != level)
                or (qualification and q.code != qualification)
            ):
                continue
            s = self.get_series(q.series)
            assert s is not None
            for sp in s.specialties:
                if specialty and sp.code != specialty:
                    continue
                if q.specialties is not None and sp.code not in q.specialties and sp.code != "OTHER":
                    continue
                out.append((s, q, sp))
        return out

    def options(
        self,
        *,
        series: str | None = None,
        level: str | None = None,
        specialty: str | None = None,
        qualification: str | None = None,
    ) -> CascadeOptions:
        """Each list is narrowed by the *other* choices, so a choice never hides its own alternatives."""

        def unique(items: list[Any], key: Any) -> list[Any]:
            seen: dict[Any, Any] = {}
            for it in items:
                seen.setdefault(key(it), it)
            return list(seen.values())

        by_series = self._candidates(None, level, specialty, qualification)
        by_level = self._candidates(series, None, specialty, qualification)
        by_specialty = self._candidates(series, level, None, qualification)
        by_qual = self._candidates(series, level, specialty, None)
        level_order = {lv.code: lv.rank for lv in self.levels}
        levels = unique([self.get_level(q.level) for _, q, _ in by_level], lambda lv: lv.code)
        return CascadeOptions(
            series=unique([s for s, _, _ in by_series], lambda s: s.code),
            levels=sorted(levels, key=lambda lv: -level_order[lv.code]),
            specialties=unique([sp for _, _, sp in by_specialty], lambda sp: sp.code),
            qualifications=unique([q for _, q, _ in by_qual], lambda q: q.code),
        )

    def check_choice(self, *, series: str, level: str, specialty: str, qualification: str) -> Qualification:
        """The server-side version of the cascade: every pair must belong together."""
        s = self.get_series(series)
        if s is None:
            raise InvalidChoiceError("申报系列不存在", field="series")
        if s.level_rule(level) is None:
            raise InvalidChoiceError(f"“{s.name}”系列没有该申报层级", field="level")
        if specialty not in {sp.code for sp in s.specialties}:
            raise InvalidChoiceError(f"申报职称专业不属于“{s.name}”系列", field="specialty")
        q = self.get_qualification(qualification)
        if q is None or q.series != series:
            raise InvalidChoiceError(f"申报资格名称不属于“{s.name}”系列", field="qualification")
        if q.level != level:
            raise InvalidChoiceError(f"资格名称“{q.name}”不属于所选申报层级", field="qualification")
        if q.specialties is not None and specialty not in q.specialties and specialty != "OTHER":
            raise InvalidChoiceError(f"资格名称“{q.name}”与所选专业不符", field="qualification")
        return q
