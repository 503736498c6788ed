"""Errors of the shared rules: each carries a stable code and a Chinese message."""

from __future__ import annotations


class RuleError(Exception):
    """Base of every error a rule raises on purpose (the engine's errors derive from it)."""

    code = "rule_error"
    message = "输入不符合要求。"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class InvalidIdNumber(RuleError):
    """The text is not a valid resident ID number."""

    code = "id_number_invalid"
    message = "身份证号码无效。"
