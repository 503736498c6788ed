"""Screen state without a page: the instant checks a candidate sees before any request."""

from __future__ import annotations

from mobile.state import (
    EnrolledStudentForm,
    IdCardForm,
    LoginForm,
    NewStudentForm,
    ResetPasswordForm,
    SmsCountdown,
    mismatch_notes,
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


def test_the_card_form_takes_what_was_read_and_marks_what_to_check() -> None:
    result = {
        "fields": {
            "name": "张三",
            "sex": None,
            "ethnicity": "汉",
            "birth": None,
            "address": "北京市朝阳区",
            "id_number": VALID_ID,
        },
        "uncertain": ["sex", "birth"],
        "id_check": {
            "valid": True,
            "sex_from_id": "女",
            "birth_from_id": "1949-12-31",
            "corrected": True,
        },
    }
    form = IdCardForm.from_reading(result)
    # Unread sex and birth come from the number, marked for checking.
    assert (form.sex, form.birth) == ("女", "1949-12-31")
    assert form.check == {"sex", "birth"}
    assert form.corrected_number
    assert form.errors() == {}
    assert form.payload()["use_card_name"] is False


def test_the_card_form_checks_its_fields() -> None:
    form = IdCardForm(name="", sex="?", ethnicity="", birth="1990/1/1", address="", id_number="123")
    assert set(form.errors()) == {"name", "sex", "ethnicity", "birth", "address", "id_number"}
    assert form.errors()["birth"] == "请按“年-月-日”填写，如1990-01-31。"


def test_mismatch_notes_explain_the_way_out() -> None:
    assert mismatch_notes({"name": True, "id_number": True}) == []
    notes = mismatch_notes({"name": False, "id_number": False})
    assert "重新注册" in notes[0]
    assert "以身份证为准更正姓名" in notes[1]
