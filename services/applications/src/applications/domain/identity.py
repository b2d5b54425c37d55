"""Domain: who applies, as the provincial identity platform registered them. 个人基本信息 shows 证件类型, 证件号码
(masked) and 姓名 and does not let them change; for a 居民身份证 the number also fixes 性别 and 出生日期
(GB 11643-1999: digits 7–14 the birth date, digit 17 odd for men), so those two are locked as well. The full
number is asked of the identity bridge when needed and never stored here."""

from __future__ import annotations

from datetime import date
from typing import Any

RESIDENT_ID = "居民身份证"


def mask_id_number(number: str) -> str:
    """Five asterisks and the last four characters ("*****5532"), as the manual's 个人基本信息 shows it."""
    return "*****" + number[-4:] if len(number) > 4 else "*****"


def registered_identity(*, name: str, id_type: str, id_number: str) -> dict[str, Any]:
    """What the form keeps of the registered identity: never the number in clear."""
    found: dict[str, Any] = {"name": name, "id_type": id_type, "id_number_masked": mask_id_number(id_number)}
    if id_type == RESIDENT_ID and len(id_number) == 18 and id_number[:17].isdigit():
        try:
            born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        except ValueError:
            return found
        found["birth_date"] = born.isoformat()
        found["gender"] = "男" if int(id_number[16]) % 2 else "女"
    return found


def lock_basic_info(content: dict[str, Any], identity: dict[str, Any] | None) -> dict[str, Any]:
    """性别 and 出生日期 are what the ID number says where it says them: the form shows them read-only, and a value
    sent otherwise is replaced (decision 0021), so a saved form never contradicts the registered identity."""
    fixed = {k: identity[k] for k in ("gender", "birth_date") if identity and k in identity}
    return {**content, **fixed} if fixed else content


def reviewed_identity(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the submitted snapshot and the reviewer carry: whom they review (name, ID type, masked number)."""
    if not identity:
        return None
    return {k: identity[k] for k in ("name", "id_type", "id_number_masked", "gender", "birth_date") if k in identity}
