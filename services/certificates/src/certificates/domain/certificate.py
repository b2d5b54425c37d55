"""Domain: what a certificate is, how it is numbered, what its signature covers, and what may be shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# The fields a signature covers, in this order; changing any of them invalidates the certificate.
SIGNED_FIELDS = (
    "certificate_no",
    "holder_name",
    "holder_id_masked",
    "series_code",
    "level_code",
    "qualification_code",
    "qualification_name",
    "specialty",
    "committee_name",
    "evaluation_method",
    "document_number",
    "issue_date",
    "issuing_authority",
    "source",
    "key_id",
)

SOURCES = {"issued": "本系统评审发证", "verified": "证书核验", "out_of_province": "外省职称确认"}
METHODS = {
    "SHEHUIHUA": "社会化评审",
    "WEITUO": "委托评审",
    "ZHONGYANG_ZAICHUAN": "中央在川单位委托评审",
    "RENDING": "职称认定",
}


def certificate_number(province_code: str, year: int, series_code: str, sequence: int) -> str:
    """省份代码 + 年份 + 系列代码 + 6 位年度序号, e.g. 512026GC000001 (see docs/decisions/0013)."""
    if not 1 <= sequence <= 999_999:
        raise ValueError("sequence out of range")
    return f"{province_code}{year:04d}{series_code.upper()}{sequence:06d}"


def canonical(data: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed: the signed fields only, sorted, compact UTF-8 JSON."""
    return json.dumps(
        {k: data.get(k) for k in SIGNED_FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: enough for the holder to recognise, not to identify."""
    return name[:1] + "*" * (len(name) - 1) if name else ""
