"""报考: choose district → site, major and courses; 确认报考 creates the order to pay.

(One screen, one module: the three pickers refresh each other and share the fee total.)"""

from __future__ import annotations

from datetime import date
from typing import Any

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState, EnrollmentChoice
from mobile.views.common import (
    Banner,
    Navigate,
    go,
    primary_button,
    screen,
    section,
    semantic,
    set_busy,
    step_indicator,
)
from rules import beijing
from rules.display import yuan

ROUTE = "/enroll"


def course_label(course: dict[str, Any]) -> str:
    day = date.fromisoformat(course["exam_date"])
    kind = "(实践)" if course["kind"] == "practical" and "实践" not in course["name"] else ""
    return (
        f"{course['code']} {course['name']}{kind}\n"
        f"{day.month}月{day.day}日 {course['slot_text']} · {yuan(course['fee_fen'])}"
    )


def fee_rules(catalog: dict[str, Any], *, new_student: bool) -> str:
    """The fees as the exam office set them (the catalog's numbers, not the app's)."""
    fees = sorted({c["fee_fen"] for m in catalog["majors"] for c in m.get("courses", [])})
    text = ""
    if len(fees) == 1:
        text = f"每门课程报考费{yuan(fees[0])}。"
    elif fees:
        text = f"每门课程报考费{yuan(fees[0])}至{yuan(fees[-1])}。"
    card = catalog.get("card_fee_fen", 0)
    if new_student and card:
        text += f"新生首次报考另收考籍证工本费{yuan(card)}。"
    return text


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    heading = ft.Text("正在加载考试计划…", size=15, color=ft.Colors.BLUE_GREY_700)
    body = ft.Column(spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    picker = ft.FilePicker()  # special-major materials

    async def load() -> None:
        try:
            catalog = await state.api.catalog()
            saved = await state.api.enrollment()
        except ApiError as exc:
            error.show(exc.message)
            return
        session = catalog["session"]
        closes = beijing.last_day(session["closes_at"])
        heading.value = f"{session['name']}自学考试报考(报考截止：{closes})"
        if not session["open"]:
            heading.value += "，当前不在报考时间内"
        heading.update()
        if saved["locked"]:
            body.controls = [locked_notice()]
        else:
            candidate = state.candidate
            choice = EnrollmentChoice(
                catalog,
                new_student=bool(
                    candidate and candidate.kind == "new" and not candidate.ticket_number
                ),
            )
            if saved["site_id"]:
                for district in catalog["districts"]:
                    if any(s["id"] == saved["site_id"] for s in district["sites"]):
                        choice.district = district["code"]
                choice.site_id = saved["site_id"]
                choice.major_code = saved["major_code"] or ""
                choice.courses = list(saved["course_codes"])
            elif candidate is not None and any(
                d["code"] == candidate.exam_district for d in catalog["districts"]
            ):
                # First visit: the exam district is the one registered (报名地州).
                choice.choose_district(candidate.exam_district)
            body.controls = form(choice)
        body.update()

    def locked_notice() -> ft.Control:
        return ft.Column(
            [
                semantic(
                    ids.ENROLL_LOCKED,
                    ft.Container(
                        ft.Text(
                            "已生成报考订单，考点和课程不能再修改。如需修改，请先在“我的订单”中取消未缴费的订单。",
                            size=15,
                        ),
                        bgcolor=ft.Colors.BLUE_50,
                        border_radius=8,
                        padding=12,
                    ),
                ),
                primary_button("enroll-to-orders", "查看我的订单", go(navigate, "/orders")),
            ],
            spacing=14,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )

    def form(choice: EnrollmentChoice) -> list[ft.Control]:
        catalog = choice.catalog
        total = ft.Text("", size=17, weight=ft.FontWeight.BOLD)
        courses = ft.Column(spacing=4)
        site = ft.Dropdown(
            label="考点", expand=True, text_size=16, menu_height=360, hint_text="请先选择考区"
        )
        district = ft.Dropdown(
            label="考区(地州)",
            value=choice.district or None,
            options=[
                ft.DropdownOption(key=d["code"], text=d["name"]) for d in catalog["districts"]
            ],
            expand=True,
            text_size=16,
        )
        major = ft.Dropdown(
            label="报考专业",
            value=choice.major_code or None,
            options=[
                ft.DropdownOption(
                    key=m["code"],
                    text=f"{m['code']} {m['name']}({m['level']})"
                    + ("·需审核材料" if m["special"] else ""),
                )
                for m in catalog["majors"]
            ],
            expand=True,
            text_size=16,
            menu_height=360,
        )

        def fill_sites() -> None:
            site.options = [
                ft.DropdownOption(
                    key=str(s["id"]),
                    text=f"{s['name']}({s['county']}，余{s['seats_left']}座)",
                    disabled=s["seats_left"] <= 0,
                )
                for s in choice.sites()
            ]
            site.value = str(choice.site_id) if choice.site_id else None
            # Nothing to open before a district is chosen: say what to do instead.
            site.disabled = not choice.district
            site.hint_text = "请选择考点" if choice.district else "请先选择考区"

        def fill_courses() -> None:
            def toggled(code: str) -> Any:
                def handler(e: ft.Event[ft.Checkbox]) -> None:
                    choice.toggle(code, bool(e.control.value))
                    error.clear()
                    refresh_total()

                return handler

            courses.controls = [
                semantic(
                    ids.enroll_course(c["code"]),
                    ft.Checkbox(
                        label=course_label(c),
                        value=c["code"] in choice.courses,
                        on_change=toggled(c["code"]),
                        label_style=ft.TextStyle(size=15),
                    ),
                )
                for c in choice.offered()
            ] or [ft.Text("请先选择报考专业。", size=14, color=ft.Colors.BLUE_GREY_600)]

        def refresh_total(update: bool = True) -> None:
            fees = choice.total_fen()
            card = " (含考籍证工本费)" if choice.new_student and fees else ""
            total.value = f"合计：{yuan(fees)}{card}"
            if update:
                total.update()

        def district_chosen(e: ft.Event[ft.Dropdown]) -> None:
            choice.choose_district(e.control.value or "")
            error.clear()  # a problem named before may be fixed now
            fill_sites()
            site.update()

        def site_chosen(e: ft.Event[ft.Dropdown]) -> None:
            choice.site_id = int(e.control.value) if e.control.value else None
            error.clear()

        def major_chosen(e: ft.Event[ft.Dropdown]) -> None:
            error.clear()
            choice.choose_major(e.control.value or "")
            fill_courses()
            courses.update()
            refresh_total()
            major_info = choice.major()
            materials.visible = bool(major_info and major_info["special"])
            materials.update()

        async def material_picked(e: ft.FilePickerResultEvent) -> None:
            if not (e.files and e.files[0].bytes):
                return
            error.clear()
            try:
                await state.api.upload_material(choice.major_code, e.files[0].bytes)
            except ApiError as exc:
                error.show(exc.message)
                return
            material_note.value = (
                "证明材料已上传。请回到个人中心提交资格审核，审核通过后即可报考该专业。"
            )
            material_note.update()

        picker.on_result = material_picked
        material_note = ft.Text(
            "该专业须上传证明材料(PDF或JPG，不超过5MB)，经考试机构审核通过后才能报考。",
            size=14,
            color=ft.Colors.ORANGE_900,
        )
        major_now = choice.major()
        materials = semantic(
            ids.ENROLL_MATERIALS,
            ft.Column(
                [
                    material_note,
                    ft.OutlinedButton(
                        content=ft.Text("上传证明材料", size=15),
                        height=44,
                        action=ft.PickFiles(
                            picker,
                            file_type=ft.FilePickerFileType.CUSTOM,
                            allowed_extensions=["pdf", "jpg", "jpeg"],
                            with_data=True,
                        ),
                    ),
                ],
                spacing=8,
            ),
            visible=bool(major_now and major_now["special"]),
        )

        district.on_select = district_chosen
        site.on_select = site_chosen
        major.on_select = major_chosen
        fill_sites()
        fill_courses()
        refresh_total(update=False)

        async def confirm(_e: Any) -> None:
            error.clear()
            problems = choice.errors()
            if problems:
                error.show("\n".join(problems))
                return
            assert choice.site_id is not None
            set_busy(confirm_button, True)
            try:
                await state.api.save_enrollment(choice.site_id, choice.major_code, choice.courses)
                order = await state.api.create_order()
            except ApiError as exc:
                error.show(exc.message)
                return
            finally:
                set_busy(confirm_button, False)
            state.order_id = order["id"]
            await navigate("/pay")

        confirm_button = primary_button(ids.ENROLL_CONFIRM, "确认报考并生成订单", confirm)
        return [
            section("考点"),
            semantic(ids.ENROLL_DISTRICT, district),
            semantic(ids.ENROLL_SITE, site),
            section("专业与课程"),
            semantic(ids.ENROLL_MAJOR, major),
            materials,
            semantic(ids.ENROLL_COURSES, courses),
            ft.Text(
                "同一时间段只能报考一门课程；实践课程须在对应理论课程合格后报考。"
                + fee_rules(catalog, new_student=choice.new_student),
                size=13,
                color=ft.Colors.BLUE_GREY_600,
            ),
            semantic(ids.ENROLL_TOTAL, total),
            confirm_button,
            ft.Text(
                "确认后生成订单，请在24小时内缴费，逾期订单失效、座位释放。",
                size=13,
                color=ft.Colors.BLUE_GREY_600,
            ),
        ]

    view = screen(
        ROUTE,
        "报考",
        [
            step_indicator(6, 8, "报考"),
            semantic(ids.ENROLL_SESSION, heading),
            error.control,
            body,
        ],
    )
    view.services = [picker]
    view.data = load
    return view
