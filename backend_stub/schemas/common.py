"""Bodies shared by every area, and the validators of free text, names and phones."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
NAME_RE = re.compile(f"^[{_HAN}·]{{2,30}}$|^[{_HAN}A-Za-z· ]{{2,40}}$")
# Dots written between the parts of a minority name, as people type them.
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·"})
# Unicode categories that never belong in a name or an address: control characters
# (NUL, BEL), format characters (RLO U+202E, zero-width spaces), private use, separators.
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def clean_text(value: str) -> str:
    """NFC-normalised, trimmed text with no invisible or control characters."""
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        raise ValueError("invisible characters")
    return value


def clean_name(value: str) -> str:
    """A person's name as ID cards print it: Han characters, a middle dot between the
    parts of a minority name (or Latin letters for a foreign name)."""
    value = clean_text(value).translate(_NAME_DOTS)
    if not NAME_RE.fullmatch(value):
        raise ValueError("name")
    return value


def _clean_phone(value: str) -> str:
    value = value.strip().replace(" ", "").replace("-", "")
    if not PHONE_RE.fullmatch(value):
        raise ValueError("phone")
    return value


def _clean_password(value: str) -> str:
    if not 6 <= len(value) <= 20:
        raise ValueError("password length")
    return value


def _one_of(value: str | None, choices: tuple[str, ...] | dict[str, str]) -> str | None:
    if value is None or value == "":
        return None
    if value not in choices:
        raise ValueError("not a choice")
    return value


class ErrorOut(BaseModel):
    code: str
    message: str


class OkOut(BaseModel):
    ok: bool = True
    message: str = ""


class Option(BaseModel):
    key: str
    text: str


class JourneyStep(BaseModel):
    key: str
    title: str
    # "done", "waiting" (a person at the exam office decides), "current", "todo"
    status: str
    detail: str = ""
