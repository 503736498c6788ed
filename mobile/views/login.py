"""登录: ID number or 准考证号 + password."""

from __future__ import annotations

import flet as ft

from mobile import ids
from mobile.services.models import ApiError, LoginSession
from mobile.state import AppState, LoginForm
from mobile.views.captcha import CaptchaRow
from mobile.views.common import (
    Banner,
    Form,
    Navigate,
    go,
    link_button,
    primary_button,
    screen,
)

ROUTE = "/login"


def build(state: AppState, navigate: Navigate) -> ft.View:
    form = Form(LoginForm())
    error = Banner(ids.FORM_ERROR)
    notice = Banner(ids.FORM_NOTICE, error=False, message=state.take_notice())

    captcha = CaptchaRow(state.api)

    async def log_in() -> LoginSession:
        try:
            return await state.api.login(
                form.data.account.strip(), form.data.password, captcha=captcha.answer()
            )
        except ApiError as exc:
            await captcha.after_refusal(exc)
            raise

    async def submit(_e: ft.Event[ft.FilledButton]) -> None:
        session = await form.submit(error, submit_button, log_in)
        if session is None:
            return
        state.candidate = session.candidate
        await navigate("/me")

    submit_button = primary_button(ids.LOGIN_SUBMIT, "登录", submit)

    return screen(
        ROUTE,
        "自学考试报名",
        [
            ft.Container(
                ft.Column(
                    [
                        ft.Icon(ft.Icons.SCHOOL, size=56, color=ft.Colors.BLUE_800),
                        ft.Text("高等教育自学考试", size=22, weight=ft.FontWeight.BOLD),
                        ft.Text(
                            "网上报名 · 实名认证 · 报考缴费", size=14, color=ft.Colors.BLUE_GREY_600
                        ),
                    ],
                    horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                    spacing=6,
                ),
                padding=ft.Padding.only(top=8, bottom=12),
            ),
            notice.control,
            form.text("account", ids.LOGIN_ACCOUNT, "身份证号 / 准考证号", max_length=32),
            form.text("password", ids.LOGIN_PASSWORD, "密码", password=True, max_length=20),
            captcha.control,
            error.control,
            submit_button,
            ft.Row(
                [
                    link_button(
                        ids.LOGIN_TO_REGISTER_NEW, "新生注册", go(navigate, "/register/new")
                    ),
                    link_button(
                        ids.LOGIN_TO_REGISTER_ENROLLED,
                        "在籍考生注册",
                        go(navigate, "/register/enrolled"),
                    ),
                ],
                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            ),
            link_button(ids.LOGIN_TO_RESET, "忘记密码？通过短信找回", go(navigate, "/reset")),
        ],
        back=False,
    )
