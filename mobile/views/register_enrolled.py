"""在籍注册: a student who already holds a 准考证号."""

from __future__ import annotations

import flet as ft

from mobile import ids
from mobile.state import AppState, EnrolledStudentForm
from mobile.views.common import (
    Banner,
    Form,
    Navigate,
    primary_button,
    screen,
    section,
)
from mobile.views.sms_field import sms_rows

ROUTE = "/register/enrolled"


def build(state: AppState, navigate: Navigate) -> ft.View:
    form = Form(EnrolledStudentForm())
    error = Banner(ids.FORM_ERROR)

    def sms_precheck() -> dict[str, str]:
        return {k: v for k, v in form.data.errors().items() if k == "phone"}

    async def submit(_e: ft.Event[ft.FilledButton]) -> None:
        session = await form.submit(
            error, submit_button, lambda: state.api.register_enrolled(form.data.payload())
        )
        if session is None:
            return
        state.candidate = session.candidate
        state.notice = "注册成功！"
        await navigate("/me")

    submit_button = primary_button(ids.REGISTER_SUBMIT, "注册", submit)
    return screen(
        ROUTE,
        "在籍考生注册",
        [
            ft.Text(
                "已有准考证号的考生请在此注册，信息须与考籍档案一致。",
                size=14,
                color=ft.Colors.BLUE_GREY_700,
            ),
            section("考籍信息"),
            form.text("name", ids.NAME, "姓名", max_length=30),
            form.text("id_number", ids.ID_NUMBER, "身份证号", max_length=18),
            form.text(
                "ticket_number",
                ids.TICKET_NUMBER,
                "准考证号",
                keyboard=ft.KeyboardType.NUMBER,
                max_length=20,
            ),
            section("手机验证"),
            *sms_rows(form, state.api, error, purpose="register", precheck=sms_precheck),
            section("设置密码"),
            form.text("password", ids.PASSWORD, "密码(6-20位)", password=True, max_length=20),
            form.text(
                "password_repeat", ids.PASSWORD_REPEAT, "再次输入密码", password=True, max_length=20
            ),
            error.control,
            submit_button,
        ],
    )
