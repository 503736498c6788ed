from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from rules import idnumber
from rules.errors import InvalidIdNumber


def test_the_published_example_is_valid() -> None:
    # The example number of GB 11643-1999.
    info = idnumber.parse("11010519491231002X")
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "女"
    assert info.division == "北京市 朝阳区"
    assert info.warnings == ()


def test_check_character_is_mod_11_2() -> None:
    assert idnumber.check_character("11010519491231002") == "X"
    assert idnumber.check_character("44052418800101001") == "4"
    for order in range(0, 1000, 7):
        number = idnumber.make("650102", dt.date(1990, 5, 6), order)
        assert idnumber.is_valid(number)
        # Changing any single digit breaks the check character.
        broken = number[:5] + str((int(number[5]) + 1) % 10) + number[6:]
        assert not idnumber.is_valid(broken)


def test_sex_comes_from_digit_17() -> None:
    assert idnumber.parse(idnumber.make("650102", dt.date(1990, 1, 1), 11)).sex == "男"
    assert idnumber.parse(idnumber.make("650102", dt.date(1990, 1, 1), 12)).sex == "女"


def test_blanks_full_width_digits_and_lowercase_x_are_normalised() -> None:
    assert idnumber.parse(" 110105 19491231 002x ").number == "11010519491231002X"
    assert idnumber.parse("１１０１０５１９４９１２３１００２Ｘ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "id_number_format"),
        ("1101051949123100", "id_number_format"),
        ("11010519491231002A", "id_number_format"),
        ("110105194912310021", "id_number_checksum"),
    ],
)
def test_invalid_numbers_carry_a_code_and_a_chinese_message(text: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(text)
    assert caught.value.code == code
    assert "身份证" in caught.value.message


def test_impossible_and_future_birth_dates_are_invalid() -> None:
    for birth in ("18991231", "20230229"):
        body = "650102" + birth + "123"
        with pytest.raises(InvalidIdNumber) as caught:
            idnumber.parse(body + idnumber.check_character(body))
        assert caught.value.code == "id_number_birth_date"
    tomorrow = dt.date(2030, 1, 2)
    number = idnumber.make("650102", tomorrow, 123)
    with pytest.raises(InvalidIdNumber):
        idnumber.parse(number, today=dt.date(2030, 1, 1))
    assert idnumber.parse(number, today=tomorrow).birth_date == tomorrow


def test_abolished_codes_are_known() -> None:
    # 宣武区 (110104) merged into 西城区 in 2010.
    name, known = idnumber.division_name("110104")
    assert known and name == "北京市 宣武区"
    assert idnumber.parse(idnumber.make("110104", dt.date(1970, 1, 1), 1)).warnings == ()


def test_an_unlisted_code_in_a_known_province_is_only_a_warning() -> None:
    info = idnumber.parse(idnumber.make("650199", dt.date(2001, 1, 1), 1))
    assert info.warnings == (idnumber.DIVISION_UNKNOWN,)
    assert info.division.startswith("新疆维吾尔自治区")


def test_an_unknown_province_is_invalid() -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(idnumber.make("990101", dt.date(2001, 1, 1), 1))
    assert caught.value.code == "id_number_division"


def test_masked_hides_the_middle() -> None:
    # One mask everywhere (rules.display): the division code and the last four.
    assert idnumber.parse("11010519491231002X").masked == "110105********002X"


def test_the_command_line() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "verification", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "idnumber" in help_text
    result = subprocess.run(
        [sys.executable, "-m", "verification", "idnumber", "11010519491231002X", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["birth_date"] == "1949-12-31"
    bad = subprocess.run(
        [sys.executable, "-m", "verification", "idnumber", "110105194912310021", "--json"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["code"] == "id_number_checksum"
