"""报考 state on the phone: choices, the rules it checks itself, the total."""

from __future__ import annotations

from mobile.state import EnrollmentChoice, countdown_label
from rules.display import yuan

CATALOG = {
    "card_fee_fen": 2000,
    "districts": [
        {"code": "6501", "name": "乌鲁木齐市", "sites": [{"id": 1, "seats_left": 3}]},
        {"code": "6502", "name": "克拉玛依市", "sites": [{"id": 2, "seats_left": 0}]},
    ],
    "majors": [
        {
            "code": "080901",
            "name": "计算机科学与技术",
            "special": False,
            "courses": [
                {
                    "code": "00024",
                    "name": "普通逻辑",
                    "exam_date": "2027-04-10",
                    "slot": "am",
                    "fee_fen": 3500,
                },
                {
                    "code": "03708",
                    "name": "中国近现代史纲要",
                    "exam_date": "2027-04-10",
                    "slot": "am",
                    "fee_fen": 3500,
                },
                {
                    "code": "00018",
                    "name": "计算机应用基础",
                    "exam_date": "2027-04-10",
                    "slot": "pm",
                    "fee_fen": 3500,
                },
            ],
        },
        {"code": "100701", "name": "护理学", "special": True, "courses": []},
    ],
}


def test_nothing_chosen_names_every_missing_choice() -> None:
    assert EnrollmentChoice(CATALOG).errors() == [
        "请选择考点。",
        "请选择报考专业。",
        "请至少选择一门课程。",
    ]


def test_two_courses_in_one_half_day_are_refused_on_the_phone() -> None:
    choice = EnrollmentChoice(CATALOG, site_id=1)
    choice.choose_major("080901")
    choice.toggle("00024", True)
    choice.toggle("03708", True)
    assert choice.errors() == ["普通逻辑和中国近现代史纲要考试时间相同，只能选其中一门。"]
    choice.toggle("03708", False)
    choice.toggle("00018", True)
    assert choice.errors() == []
    assert yuan(choice.total_fen()) == "¥90.00"
    assert (
        EnrollmentChoice(
            CATALOG, new_student=False, major_code="080901", courses=["00024"]
        ).total_fen()
        == 3500
    )


def test_changing_district_or_major_drops_what_no_longer_fits() -> None:
    choice = EnrollmentChoice(CATALOG)
    choice.choose_district("6501")
    choice.site_id = 1
    choice.choose_district("6502")
    assert choice.site_id is None
    choice.choose_major("080901")
    choice.toggle("00024", True)
    choice.choose_major("100701")
    assert choice.courses == []


def test_the_countdown_says_when_the_code_expired() -> None:
    assert countdown_label(179.2) == "请在 03:00 内扫码支付"
    assert countdown_label(61) == "请在 01:01 内扫码支付"
    assert "已过期" in countdown_label(0)


def test_the_fee_rules_come_from_the_catalog() -> None:
    from mobile.views.enroll import fee_rules

    catalog = {
        "majors": [{"courses": [{"fee_fen": 4000}, {"fee_fen": 4000}]}],
        "card_fee_fen": 1500,
    }
    assert fee_rules(catalog, new_student=True) == (
        "每门课程报考费¥40.00。新生首次报考另收考籍证工本费¥15.00。"
    )
    assert fee_rules(catalog, new_student=False) == "每门课程报考费¥40.00。"
