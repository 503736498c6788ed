"""Small things a candidate notices (issue 16, item 8), checked where they are decided."""

from __future__ import annotations

import re
from pathlib import Path

import flet as ft

from mobile.state import LoginForm
from mobile.views.common import Form

VIEWS = Path(__file__).resolve().parents[2] / "mobile"


def test_field_errors_are_drawn_at_13_px_or_more() -> None:
    form = Form(LoginForm())
    form.text("account", "x", "账号")
    field = form.controls["account"]
    assert isinstance(field, ft.TextField)
    assert field.error_style is not None and (field.error_style.size or 0) >= 13


def test_the_apps_own_texts_use_ascii_parentheses() -> None:
    """The shipped font draws full-width parentheses an em wide: "（ 6-20位 ）"."""
    found = [
        f"{path.name}: {line.strip()}"
        for path in VIEWS.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r'"[^"]*[（）][^"]*"', line) and not line.strip().startswith("#")
    ]
    assert not found, found
