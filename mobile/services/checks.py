"""Instant checks the phone runs before asking the backend (which checks again)."""

from __future__ import annotations

import re

from rules import idnumber
from rules.errors import InvalidIdNumber

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def check_name(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "请填写姓名。"
    if len(value) < 2:
        return "姓名至少2个字。"
    return None


def check_id_number(value: str) -> str | None:
    if not value.strip():
        return "请填写身份证号。"
    try:
        idnumber.parse(value)
    except InvalidIdNumber as exc:
        return exc.message
    return None


def check_phone(value: str) -> str | None:
    if not value.strip():
        return "请填写手机号。"
    if not PHONE_RE.fullmatch(value.strip()):
        return "请填写11位手机号。"
    return None


def check_sms_code(value: str) -> str | None:
    if not re.fullmatch(r"\d{6}", value.strip()):
        return "请填写6位短信验证码。"
    return None


def check_password(value: str) -> str | None:
    if not 6 <= len(value) <= 20:
        return "密码长度应为6-20位。"
    return None


def check_password_repeat(value: str, password: str) -> str | None:
    if value != password:
        return "两次输入的密码不一致。"
    return None


def check_required(value: str | None, label: str) -> str | None:
    if not value:
        return f"请选择{label}。"
    return None
