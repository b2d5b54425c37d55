"""Domain: GB 11643-1999 resident ID number (公民身份号码) validation, derived facts, PII masks and a leak scanner."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from identity_bridge.domain.errors import DomainError

ID_NUMBER_LENGTH = 18
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# ISO 7064 MOD 11-2 as specified by GB 11643-1999: weight of position i is 2^(17-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # indexed by Y = sum(a_i * w_i) mod 11

_FIELD = "id_number"
_MSG_FORMAT = "证件号码格式不正确"
_MSG_CHECKSUM = "证件号码校验位不正确"
_MSG_BIRTH_DATE = "证件号码中的出生日期无效"

# An 18-character candidate not glued to further digits (ASCII digits only: \d would also match full-width ones).
_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


class InvalidIdNumberError(DomainError):
    code = "identity.invalid_id_number"
    status_hint = 422

    def __init__(self, message: str = _MSG_FORMAT, *, field: str | None = _FIELD) -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True, repr=False)
class IdNumber:
    """A validated resident ID number; `value` is normalised (upper-case X)."""

    value: str
    birth_date: date
    sex: str  # "男" or "女"
    region_code: str  # administrative division code (first six digits)
    is_sichuan: bool

    def masked(self) -> str:
        return mask_id_number(self.value)

    def __repr__(self) -> str:  # never put the plaintext number into logs or tracebacks
        return f"IdNumber(value={mask_id_number(self.value)!r})"


def normalize(raw: str) -> str:
    """Remove all whitespace (including full-width spaces) and upper-case a trailing x."""
    value = "".join(raw.split())
    if value.endswith("x"):
        value = value[:-1] + "X"
    return value


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(first17) != ID_NUMBER_LENGTH - 1 or not _is_ascii_digits(first17):
        raise ValueError("the check character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def has_valid_checksum(value: str) -> bool:
    """Whether `value` is 17 digits plus a matching check character (no date or region checks)."""
    if len(value) != ID_NUMBER_LENGTH or not _is_ascii_digits(value[:17]):
        return False
    return value[17].upper() == check_char(value[:17])


def validate(raw: str, *, today: date | None = None, earliest_birth_date: date = EARLIEST_BIRTH_DATE) -> IdNumber:
    """Normalise and check a resident ID number; raise InvalidIdNumberError (Chinese message) if it is not one."""
    value = normalize(raw)
    if len(value) != ID_NUMBER_LENGTH or not _is_ascii_digits(value[:17]):
        raise InvalidIdNumberError(_MSG_FORMAT)
    last = value[17]
    if not (_is_ascii_digits(last) or last == "X"):
        raise InvalidIdNumberError(_MSG_FORMAT)
    if value[0] == "0":  # GB/T 2260 province codes start with 1-9
        raise InvalidIdNumberError(_MSG_FORMAT)
    if check_char(value[:17]) != last:
        raise InvalidIdNumberError(_MSG_CHECKSUM)

    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumberError(_MSG_BIRTH_DATE) from None
    if birth > (today if today is not None else date.today()) or birth < earliest_birth_date:
        raise InvalidIdNumberError(_MSG_BIRTH_DATE)

    return IdNumber(
        value=value,
        birth_date=birth,
        sex="男" if int(value[16]) % 2 == 1 else "女",
        region_code=value[:6],
        is_sichuan=value.startswith("51"),
    )


def mask_id_number(value: str) -> str:
    """As shown in the user manual: five stars and the last four characters, e.g. `*****5532`."""
    value = value.strip()
    if len(value) <= 4:
        return "*****"
    return "*****" + value[-4:]


def mask_id_number_tail(last4: str) -> str:
    """The same mask from the stored last four characters (no need to decrypt the number to show it)."""
    if len(last4) != 4:
        return "*****"
    return "*****" + last4


def mask_name(name: str) -> str:
    """Every character but the last becomes `*` ("张三丰" -> "**丰"); a one-character name becomes "*"."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return "*" * (len(name) - 1) + name[-1]


def mask_phone(phone: str) -> str:
    """An 11-digit mobile number keeps its first 3 and last 4 digits ("138****8000"); anything else its last 4."""
    phone = "".join(phone.split())
    if len(phone) == 11 and _is_ascii_digits(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) <= 4:
        return "****"
    return "****" + phone[-4:]


def find_id_numbers(text: str) -> list[str]:
    """Substrings of `text` that are checksum-valid 18-character ID numbers not adjoining other digits.

    Meant for scanning tables, logs and responses for leaked plaintext ID numbers; only the format and the
    check character are tested (no date or region checks), so the scan errs on the side of reporting.
    """
    return [match.group() for match in _CANDIDATE.finditer(text) if has_valid_checksum(match.group())]


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
