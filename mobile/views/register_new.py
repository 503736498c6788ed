"""新生注册: the ID number becomes the account."""

from __future__ import annotations

import flet as ft

from mobile import ids
from mobile.state import AppState, NewStudentForm
from mobile.views.common import (
    Banner,
    Form,
    Navigate,
    primary_button,
    screen,
    section,
    step_indicator,
)
from mobile.views.sms_field import sms_rows

ROUTE = "/register/new"
JOURNEY_STEPS = 8


def build(state: AppState, navigate: Navigate) -> ft.View:
    assert state.reference is not None, "the router loads the form choices first"
    ref = state.reference
    form = Form(NewStudentForm())
    error = Banner(ids.FORM_ERROR)

    def sms_precheck() -> dict[str, str]:
        return {k: v for k, v in form.data.errors().items() if k == "phone"}

    async def submit(_e: ft.Event[ft.FilledButton]) -> None:
        session = await form.submit(
            error, submit_button, lambda: state.api.register_new(form.data.payload())
        )
        if session is None:
            return
        state.candidate = session.candidate
        state.notice = "注册成功！" + "".join(w.message for w in session.warnings)
        await navigate("/me")

    submit_button = primary_button(ids.REGISTER_SUBMIT, "注册", submit)
    return screen(
        ROUTE,
        "新生注册",
        [
            step_indicator(1, JOURNEY_STEPS, "账号注册"),
            section("身份信息"),
            form.text("name", ids.NAME, "姓名(与身份证一致)", max_length=30),
            form.text("id_number", ids.ID_NUMBER, "身份证号(注册后不可修改)", max_length=18),
            section("手机验证"),
            *sms_rows(form, state.api, error, purpose="register", precheck=sms_precheck),
            section("设置密码"),
            form.text("password", ids.PASSWORD, "密码(6-20位)", password=True, max_length=20),
            form.text(
                "password_repeat", ids.PASSWORD_REPEAT, "再次输入密码", password=True, max_length=20
            ),
            section("报名信息"),
            form.choice(
                "exam_district",
                ids.EXAM_DISTRICT,
                "报名地州(确认后不可修改)",
                [(o.key, o.text) for o in ref.exam_districts],
            ),
            form.choice("ethnicity", ids.ETHNICITY, "族别", [(x, x) for x in ref.ethnicities]),
            form.choice(
                "political_status",
                ids.POLITICAL_STATUS,
                "政治面貌",
                [(x, x) for x in ref.political_statuses],
            ),
            form.choice("education", ids.EDUCATION, "学历", [(x, x) for x in ref.educations]),
            form.choice("occupation", ids.OCCUPATION, "职业", [(x, x) for x in ref.occupations]),
            form.radio("hukou", ids.HUKOU, "户籍类别", ref.hukou_types),
            form.text(
                "email", ids.EMAIL, "邮箱(选填)", keyboard=ft.KeyboardType.EMAIL, max_length=60
            ),
            error.control,
            submit_button,
        ],
    )
