"""API errors: every 4xx carries a stable machine `code` and a Chinese `message`."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from backend_stub.domain.errors import DomainError

# The HTTP status of each domain refusal (backend_stub.domain.errors.DomainError): the one
# place where the rules meet HTTP. A code ending in "*" covers every code with that stem.
STATUS = {
    # 报考 and orders
    "window_not_open": 409,
    "window_closed": 409,
    "identity_incomplete": 409,
    "site_unknown": 422,
    "major_unknown": 422,
    "major_needs_materials": 409,
    "no_courses": 422,
    "course_not_in_major": 422,
    "slot_conflict": 409,
    "theory_not_passed": 409,
    "enrollment_missing": 409,
    "order_exists": 409,
    "site_full": 409,
    # 资格审核
    "identity_locked": 409,
    "review_pending": 409,
    "part_not_rejected": 409,
    "review_*": 409,
    "rejected_parts_unchanged": 409,
    # 人脸识别
    "idcard_required": 409,
    "liveness_*": 409,
    "challenge_limit": 429,
    "challenge_not_found": 404,
    "challenge_used": 409,
    "challenge_expired": 409,
    # SMS codes
    "sms_too_frequent": 429,
    "sms_daily_limit": 429,
    "sms_code_missing": 400,
    "sms_code_expired": 400,
    "sms_code_exhausted": 400,
    "sms_code_wrong": 400,
}


def status_of(code: str) -> int:
    """The HTTP status of a domain refusal (409 for one not listed: a conflict with the
    candidate's state is what a rule refuses most)."""
    if code in STATUS:
        return STATUS[code]
    stem = next((k for k in STATUS if k.endswith("*") and code.startswith(k[:-1])), None)
    return STATUS[stem] if stem else 409


class ApiError(HTTPException):
    """An error the app shows as is: `{"code": ..., "message": ...}`."""

    def __init__(self, status_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(
            status_code=status_code, detail={"code": code, "message": message, **extra}
        )
        self.code = code
        self.message = message

    @classmethod
    def from_domain(cls, error: DomainError) -> ApiError:
        return cls(status_of(error.code), error.code, error.message, **error.extra)


# Chinese names of request fields, so a validation error can say which field is wrong
# without echoing what was typed (it may be an ID number).
FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "sms_code": "短信验证码",
    "password": "密码",
    "new_password": "新密码",
    "exam_district": "报名地州",
    "ethnicity": "族别",
    "political_status": "政治面貌",
    "education": "学历",
    "occupation": "职业",
    "hukou": "户籍类别",
    "email": "邮箱",
    "ticket_number": "准考证号",
    "account": "账号",
    "purpose": "验证码用途",
    "sex": "性别",
    "birth": "出生日期",
    "address": "住址",
    "front": "身份证人像面照片",
    "file": "照片文件",
}
