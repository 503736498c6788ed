"""API errors: every 4xx carries a stable machine `code` and a Chinese `message`."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException


class ApiError(HTTPException):
    """An error the app shows as is: `{"code": ..., "message": ...}`."""

    def __init__(self, status_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(
            status_code=status_code, detail={"code": code, "message": message, **extra}
        )
        self.code = code
        self.message = message


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
