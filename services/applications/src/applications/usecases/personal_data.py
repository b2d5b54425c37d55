"""Use cases: phone numbers in an application's basic info — sealed before storage, masked when shown."""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from applications.usecases.ports import PiiProtector

_PREFIX = "pii:"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****" + phone[-4:]


class PhoneFields:
    FIELDS: ClassVar[tuple[str, ...]] = ("mobile_phone", "contact_phone")

    def __init__(self, cipher: PiiProtector) -> None:
        self._cipher = cipher

    def seal(self, basic_info: dict[str, Any]) -> dict[str, Any]:
        out = dict(basic_info)
        for f in self.FIELDS:
            if out.get(f):
                blob = self._cipher.encrypt(str(out[f]), context=f"application.{f}")
                out[f] = _PREFIX + base64.b64encode(blob).decode()
        return out

    def show(self, sections: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
        info = sections.get("basic_info")
        if not info:
            return sections
        shown = dict(info)
        for f in self.FIELDS:
            value = shown.get(f)
            if isinstance(value, str) and value.startswith(_PREFIX):
                clear = self._cipher.decrypt(base64.b64decode(value[len(_PREFIX) :]), context=f"application.{f}")
                shown[f] = clear if reveal else mask_phone(clear)
        return {**sections, "basic_info": shown}
