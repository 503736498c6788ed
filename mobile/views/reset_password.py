"""找回密码: a new password with an SMS code sent to the registered phone."""

from __future__ import annotations

import flet as ft

from mobile import ids
from mobile.state import AppState, ResetPasswordForm
from mobile.views.common import Banner, Form, Navigate, primary_button, screen
from mobile.views.sms_field import sms_rows

ROUTE = "/reset"


def build(state: AppState, navigate: Navigate) -> ft.View:
    form = Form(ResetPasswordForm())
    error = Banner(ids.FORM_ERROR)

    async def submit(_e: ft.Event[ft.FilledButton]) -> None:
        message = await form.submit(
            error, submit_button, lambda: state.api.reset_password(form.data.payload())
        )
        if message is None:
            return
        state.notice = message
        await navigate("/login")

    submit_button = primary_button(ids.RESET_SUBMIT, "重设密码", submit)
    return screen(
        ROUTE,
        "找回密码",
        [
            ft.Text("验证码将发送到注册时填写的手机号。", size=14, color=ft.Colors.BLUE_GREY_700),
            form.text("id_number", ids.ID_NUMBER, "身份证号", max_length=18),
            *sms_rows(
                form,
                state.api,
                error,
                purpose="reset_password",
                precheck=form.data.sms_errors,
                id_number=lambda: form.data.id_number.strip(),
            ),
            form.text("password", ids.PASSWORD, "新密码(6-20位)", password=True, max_length=20),
            form.text(
                "password_repeat",
                ids.PASSWORD_REPEAT,
                "再次输入新密码",
                password=True,
                max_length=20,
            ),
            error.control,
            submit_button,
        ],
    )
