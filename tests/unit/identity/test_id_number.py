"""Unit tests, identity-bridge domain: GB 11643-1999 ID number validation, derived facts, masks and the leak scanner."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from identity_bridge.domain.errors import DomainError
from identity_bridge.domain.id_number import (
    EARLIEST_BIRTH_DATE,
    IdNumber,
    InvalidIdNumberError,
    check_char,
    find_id_numbers,
    has_valid_checksum,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize,
    validate,
)

TODAY = date(2026, 1, 1)
STANDARD_EXAMPLE_X = "11010519491231002X"  # GB 11643-1999 example, check character X
STANDARD_EXAMPLE_1880 = "440524188001010014"  # GB 11643-1999 example, born 1880-01-01
BAD_CHECKSUM = "130402198207290622"  # correct check character would be 4
SICHUAN_MALE_5532 = "510104198506035532"
FUTURE_BIRTH = "11010520300101001X"  # 2030-01-01, checksum-valid
FEB_30 = "110105200002300015"  # checksum-valid, 2000-02-30 does not exist
FEB_29_1900 = "110105190002290017"  # checksum-valid, 1900 is not a leap year
FEB_29_2000 = "510104200002290011"  # checksum-valid, 2000 is a leap year
BORN_1899 = "110105189912310015"  # checksum-valid
ZERO_REGION = "010105194912310018"  # checksum-valid, but no province code starts with 0

MSG_FORMAT = "证件号码格式不正确"
MSG_CHECKSUM = "证件号码校验位不正确"
MSG_BIRTH = "证件号码中的出生日期无效"


def _reject(raw: str, **kwargs: date) -> InvalidIdNumberError:
    with pytest.raises(InvalidIdNumberError) as caught:
        validate(raw, today=TODAY, **kwargs)
    return caught.value


def test_check_char_matches_hand_computation_when_given_standard_example() -> None:
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 mod 11 = 2 -> "X"
    assert check_char(STANDARD_EXAMPLE_X[:17]) == "X"
    assert check_char(STANDARD_EXAMPLE_1880[:17]) == "4"


def test_validate_accepts_standard_example_when_check_char_is_x() -> None:
    result = validate(STANDARD_EXAMPLE_X, today=TODAY)
    assert result == IdNumber(
        value=STANDARD_EXAMPLE_X, birth_date=date(1949, 12, 31), sex="女", region_code="110105", is_sichuan=False
    )


def test_validate_accepts_standard_example_when_born_1880_and_birth_floor_lowered() -> None:
    result = validate(STANDARD_EXAMPLE_1880, today=TODAY, earliest_birth_date=date(1800, 1, 1))
    assert result.birth_date == date(1880, 1, 1)
    assert result.sex == "男"
    assert result.region_code == "440524"
    assert has_valid_checksum(STANDARD_EXAMPLE_1880)


def test_validate_rejects_standard_example_when_born_before_default_floor_1900() -> None:
    assert EARLIEST_BIRTH_DATE == date(1900, 1, 1)
    error = _reject(STANDARD_EXAMPLE_1880)
    assert error.message == MSG_BIRTH
    assert _reject(BORN_1899).message == MSG_BIRTH


def test_validate_rejects_with_checksum_message_when_check_char_wrong() -> None:
    error = _reject(BAD_CHECKSUM)
    assert error.message == MSG_CHECKSUM
    assert str(error) == MSG_CHECKSUM
    assert error.field == "id_number"
    assert error.code == "identity.invalid_id_number"
    assert isinstance(error, DomainError)
    assert not has_valid_checksum(BAD_CHECKSUM)


def test_validate_normalises_when_trailing_x_is_lowercase() -> None:
    assert normalize("11010519491231002x") == STANDARD_EXAMPLE_X
    assert validate("11010519491231002x", today=TODAY).value == STANDARD_EXAMPLE_X


def test_validate_normalises_when_number_contains_spaces() -> None:
    assert normalize(" 110105 19491231 002x ") == STANDARD_EXAMPLE_X
    assert validate(" 110105 19491231 002x\n", today=TODAY).value == STANDARD_EXAMPLE_X


def test_validate_rejects_with_birth_message_when_birth_date_in_future() -> None:
    error = _reject(FUTURE_BIRTH)
    assert (error.message, error.field) == (MSG_BIRTH, "id_number")
    assert validate(FUTURE_BIRTH, today=date(2030, 1, 1)).birth_date == date(2030, 1, 1)


def test_validate_rejects_with_birth_message_when_date_is_february_30() -> None:
    assert has_valid_checksum(FEB_30)
    assert _reject(FEB_30).message == MSG_BIRTH


def test_validate_honours_leap_years_when_date_is_february_29() -> None:
    assert validate(FEB_29_2000, today=TODAY).birth_date == date(2000, 2, 29)
    assert _reject(FEB_29_1900).message == MSG_BIRTH


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "1101051949123100AX",  # letter among the first 17
        "X10105194912310021",  # X in front
        "11010519491231002Y",  # last character neither digit nor X
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
    ],
)
def test_validate_rejects_with_format_message_when_length_or_characters_wrong(raw: str) -> None:
    error = _reject(raw)
    assert error.message == MSG_FORMAT
    assert error.field == "id_number"
    assert error.code == "identity.invalid_id_number"


def test_validate_rejects_with_format_message_when_address_code_starts_with_zero() -> None:
    assert has_valid_checksum(ZERO_REGION)
    assert _reject(ZERO_REGION).message == MSG_FORMAT


def test_validate_derives_sex_birth_and_sichuan_when_number_is_from_chengdu() -> None:
    result = validate(SICHUAN_MALE_5532, today=TODAY)
    assert result.birth_date == date(1985, 6, 3)
    assert result.sex == "男"  # 17th digit 3 is odd
    assert result.region_code == "510104"
    assert result.is_sichuan is True
    assert validate(FEB_29_2000, today=TODAY).sex == "男"
    assert validate(STANDARD_EXAMPLE_X, today=TODAY).sex == "女"  # 17th digit 2 is even


def test_id_number_is_immutable_and_repr_is_masked_when_validated() -> None:
    result = validate(SICHUAN_MALE_5532, today=TODAY)
    with pytest.raises(FrozenInstanceError):
        result.value = STANDARD_EXAMPLE_X  # type: ignore[misc]
    assert SICHUAN_MALE_5532 not in repr(result)
    assert result.masked() == "*****5532"


def test_mask_id_number_shows_five_stars_and_last_four_when_id_ends_5532() -> None:
    assert mask_id_number(SICHUAN_MALE_5532) == "*****5532"
    assert mask_id_number(STANDARD_EXAMPLE_X) == "*****002X"
    assert mask_id_number("12") == "*****"


def test_mask_name_keeps_only_last_character_when_name_has_several() -> None:
    assert mask_name("张三丰") == "**丰"
    assert mask_name("张三") == "*三"
    assert mask_name("欧阳娜娜") == "***娜"
    assert mask_name("张") == "*"
    assert mask_name("") == ""


def test_mask_phone_keeps_first_three_and_last_four_when_phone_has_11_digits() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("028-85551234") == "****1234"
    assert mask_phone("123") == "****"


def test_find_id_numbers_finds_valid_id_when_embedded_in_json() -> None:
    text = json.dumps(
        {"name": "张三", "id_number": SICHUAN_MALE_5532, "phone": "13800138000", "n": "11010519491231002x"}
    )
    assert find_id_numbers(text) == [SICHUAN_MALE_5532, "11010519491231002x"]
    assert find_id_numbers(f"id={STANDARD_EXAMPLE_X};") == [STANDARD_EXAMPLE_X]


def test_find_id_numbers_ignores_candidates_when_checksum_invalid_or_digit_run_longer() -> None:
    text = " ".join(
        [
            BAD_CHECKSUM,
            "9" + STANDARD_EXAMPLE_1880,  # 19-digit run containing a valid number
            STANDARD_EXAMPLE_1880 + "7",
            "12345678901234567890123",
            "20260101123456789012",
        ]
    )
    assert find_id_numbers(text) == []
    assert find_id_numbers("") == []
