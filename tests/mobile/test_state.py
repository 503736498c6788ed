"""Screen state without a page: the instant checks a candidate sees before any request."""

from __future__ import annotations

from mobile.state import (
    EnrolledStudentForm,
    LoginForm,
    NewStudentForm,
    ResetPasswordForm,
    SmsCountdown,
)

VALID_ID = "11010519491231002X"


def filled_new_form(**overrides: str) -> NewStudentForm:
    values = dict(
        name="张三",
        id_number=VALID_ID,
        phone="13800138000",
        sms_code="123456",
        password="secret123",
        password_repeat="secret123",
        exam_district="6501",
        ethnicity="汉族",
        political_status="群众",
        education="高中",
        occupation="学生",
        hukou="城镇",
    )
    values.update(overrides)
    return NewStudentForm(**values)


def test_an_empty_new_student_form_lists_every_missing_field_in_chinese() -> None:
    errors = NewStudentForm().errors()
    assert set(errors) == {
        "name",
        "id_number",
        "phone",
        "sms_code",
        "password",
        "exam_district",
        "ethnicity",
        "political_status",
        "education",
        "occupation",
        "hukou",
    }
    assert errors["exam_district"] == "请选择报名地州。"
    assert errors["id_number"] == "请填写身份证号。"


def test_a_complete_form_has_no_errors_and_sends_no_repeat_password() -> None:
    form = filled_new_form(email="  ")
    assert form.errors() == {}
    payload = form.payload()
    assert "password_repeat" not in payload
    assert payload["email"] is None
    assert payload["id_number"] == VALID_ID


def test_the_id_number_check_digit_is_checked_on_the_phone() -> None:
    errors = filled_new_form(id_number="110105194912310021").errors()
    assert errors == {"id_number": "身份证号码校验位不正确，请逐位核对。"}


def test_passwords_must_match_and_have_6_to_20_characters() -> None:
    assert filled_new_form(password_repeat="other123").errors() == {
        "password_repeat": "两次输入的密码不一致。"
    }
    assert "password" in filled_new_form(password="12345", password_repeat="12345").errors()


def test_phone_and_code_formats() -> None:
    errors = filled_new_form(phone="1234", sms_code="12ab").errors()
    assert errors == {"phone": "请填写11位手机号。", "sms_code": "请填写6位短信验证码。"}


def test_login_and_enrolled_and_reset_forms() -> None:
    assert set(LoginForm().errors()) == {"account", "password"}
    enrolled = EnrolledStudentForm(
        name="李四",
        id_number=VALID_ID,
        ticket_number="",
        phone="13800138000",
        sms_code="123456",
        password="secret1",
        password_repeat="secret1",
    )
    assert enrolled.errors() == {"ticket_number": "请填写准考证号。"}
    reset = ResetPasswordForm(id_number=VALID_ID, phone="13800138000")
    assert reset.sms_errors() == {}
    assert set(reset.errors()) == {"sms_code", "password"}
    assert reset.payload()["new_password"] == ""


def test_the_sms_countdown() -> None:
    countdown = SmsCountdown()
    assert countdown.ready and countdown.label == "获取验证码"
    countdown.start(2)
    assert not countdown.ready and countdown.label == "2秒后重发"
    countdown.tick()
    countdown.tick()
    countdown.tick()
    assert countdown.ready and countdown.seconds_left == 0
