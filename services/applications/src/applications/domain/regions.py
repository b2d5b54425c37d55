"""Domain: the region tree (四川省 -> 市州 -> 市(州)本级 / 区县) and the territorial principle (属地原则)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PROVINCE, PROVINCE_OWN, PREFECTURE, PREFECTURE_OWN, COUNTY = (
    "province",
    "province_own",
    "prefecture",
    "prefecture_own",
    "county",
)


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    kind: str
    parent: str | None
    display_path: str  # as the manual shows it: 四川省/成都市/市(州)本级


class RegionTree:
    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code = {r.code: r for r in regions}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def ancestors(self, code: str) -> list[Region]:
        """Nearest first, the province last."""
        out = []
        region = self._by_code.get(code)
        while region is not None and region.parent is not None:
            region = self._by_code.get(region.parent)
            if region is not None:
                out.append(region)
        return out

    def province_own(self) -> Region | None:
        return next((r for r in self._by_code.values() if r.kind == PROVINCE_OWN), None)

    def direct_scopes(self, unit_region: str) -> list[Region]:
        """Committee scopes a unit may apply to directly: its own region, every region above it, and the
        province-level (省本级) scope. Any other scope needs a 委托评审函 from the competent department."""
        region = self._by_code.get(unit_region)
        if region is None:
            return []
        scopes = [region, *self.ancestors(unit_region)]
        own = self.province_own()
        if own is not None and own not in scopes:
            scopes.append(own)
        return scopes

    def children(self, code: str | None) -> list[Region]:
        return [r for r in self._by_code.values() if r.parent == code]
