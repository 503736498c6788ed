"""身份证: photograph the portrait side, check what was read, confirm it."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import ids
from mobile.services.models import ApiError, IdCardReading
from mobile.state import CARD_LABELS, AppState, IdCardForm, mismatch_notes
from mobile.views.camera import CameraPanel, guide_frame
from mobile.views.common import (
    PRIMARY,
    Banner,
    Form,
    Navigate,
    go,
    primary_button,
    screen,
    semantic,
    step_indicator,
    upload_feedback,
)
from rules.display import masked_id

ROUTE = "/idcard"
CARD_RATIO = 85.6 / 54.0
# The straightened card shown beside the fields it was read from.
CROP_WIDTH = 320
CROP_HEIGHT = round(CROP_WIDTH / CARD_RATIO)
WARN = ft.Colors.ORANGE_800


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    body = ft.Column(spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    progress = ft.ProgressBar(value=0, color=PRIMARY, bgcolor=ft.Colors.BLUE_GREY_100)
    progress_text = ft.Text("", size=14)

    async def upload(data: bytes) -> None:
        error.clear()
        show_progress()

        on_progress, on_status = upload_feedback(progress, progress_text, "正在识别，请稍候…")

        try:
            reading = await state.api.upload_idcard(
                data, on_progress=on_progress, on_status=on_status
            )
        except ApiError as exc:
            await show_capture()
            error.show(exc.message)
            return
        show_result(reading)

    panel = CameraPanel(
        ids=(ids.IDCARD_CAMERA, ids.IDCARD_TAKE_PHOTO, ids.IDCARD_PICK_PHOTO),
        shutter_label="拍照识别",
        pick_label="从相册选择",
        guide=guide_frame(300, 300 / CARD_RATIO, radius=14),
        hint="请将身份证人像面放入框内，避开反光",
        front=False,
        on_file=upload,
        no_camera="未检测到可用的摄像头，请从相册选择身份证照片。",
    )

    panel.shoot_photos(upload, lambda: error.show("拍照失败，请重试，或从相册选择照片。"))

    async def show_capture(*_args: Any) -> None:
        body.controls = panel.controls
        body.update()
        await panel.open()  # the preview was taken off the page: open the camera again

    def show_progress() -> None:
        progress.value = 0
        progress_text.value = "正在上传… 0%"
        body.controls = [
            semantic(ids.IDCARD_PROGRESS, ft.Column([progress_text, progress], spacing=8))
        ]
        body.update()

    def show_result(reading: IdCardReading) -> None:
        form = Form(IdCardForm.from_reading(reading.result))
        retake = [w["message"] for w in reading.warnings if w["severity"] == "retake"]
        warnings = Banner(
            ids.IDCARD_WARNINGS,
            message="；".join(retake) + ("。可重新拍摄，或核对后继续。" if retake else ""),
        )
        warnings.text.color = WARN
        notes = mismatch_notes(reading.account_match)
        mismatch = Banner(ids.IDCARD_MISMATCH, message="\n".join(notes))
        mismatch.text.color = WARN

        def field(key: str, **kwargs: Any) -> ft.Control:
            control = form.text(key, ids.card_field(key), CARD_LABELS[key], **kwargs)
            text_field = form.controls[key]
            assert isinstance(text_field, ft.TextField)
            if key in form.data.check:
                text_field.border_color = WARN
                text_field.helper = "请对照身份证核对此项"
            if key == "id_number" and form.data.corrected_number:
                text_field.helper = "已自动更正一位数字，请务必核对"
            return control

        async def confirm(_e: Any) -> None:
            confirmed = await form.submit(
                error,
                confirm_button,
                lambda: state.api.confirm_idcard(reading.id, form.data.payload()),
            )
            if confirmed is None:
                return
            state.notice = "身份证信息已确认。"
            await navigate("/me")

        def toggle_name(e: ft.Event[ft.Checkbox]) -> None:
            form.data.use_card_name = bool(e.control.value)

        confirm_button = primary_button(ids.IDCARD_CONFIRM, "确认无误，下一步", confirm)
        # The card as the server read it (turned upright, straightened), fetched after. Its
        # place is kept from the start: a picture arriving later would push the fields down
        # under the candidate's finger.
        picture = ft.Container(
            ft.ProgressRing(width=24, height=24, stroke_width=3),
            width=CROP_WIDTH,
            height=CROP_HEIGHT,
            alignment=ft.Alignment.CENTER,
            bgcolor=ft.Colors.BLUE_GREY_50,
            border_radius=6,
        )
        crop = semantic(
            ids.IDCARD_CROP,
            ft.Column(
                [
                    picture,
                    ft.Text(
                        "系统识别所用的身份证画面(已自动摆正)",
                        size=13,
                        color=ft.Colors.BLUE_GREY_700,
                    ),
                ],
                spacing=4,
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
            ),
        )

        async def show_crop() -> None:
            try:
                data = await state.api.idcard_crop(reading.id)
            except ApiError:
                data = None  # the fields are what matters; the picture is a help
            if data:
                picture.content = ft.Image(
                    src=data,
                    width=CROP_WIDTH,
                    height=CROP_HEIGHT,
                    fit=ft.BoxFit.CONTAIN,
                    border_radius=6,
                )
                picture.bgcolor = None
            else:
                crop.visible = False
            try:
                crop.update()
            except RuntimeError:  # The candidate left this screen meanwhile.
                pass

        body.controls = [
            warnings.control,
            crop,
            ft.Text("请对照身份证核对识别结果，如有错误请直接修改：", size=15),
            field("name", max_length=30),
            form.radio("sex", ids.card_field("sex"), "性别", ["男", "女"]),
            field("ethnicity", max_length=10),
            field("birth", hint="如 1990-01-31", max_length=10),
            field("address", max_length=80),
            field("id_number", max_length=18),
            mismatch.control,
            *(
                [
                    semantic(
                        ids.IDCARD_USE_CARD_NAME,
                        ft.Checkbox(label="以身份证为准更正注册姓名", on_change=toggle_name),
                    )
                ]
                if not reading.account_match.get("name", True)
                else []
            ),
            error.control,
            confirm_button,
            semantic(
                ids.IDCARD_RETAKE,
                ft.TextButton(
                    content=ft.Text("重新拍摄", size=16), on_click=show_capture, height=44
                ),
            ),
        ]
        body.update()
        body.page.run_task(show_crop)

    def show_confirmed(reading: IdCardReading) -> None:
        """Back on this screen after confirming: what was confirmed, and the way on."""
        fields = reading.confirmed_fields or {}
        number = str(fields.get("id_number") or "")
        shown = {**fields, "id_number": masked_id(number) if number else ""}
        lines = [f"{CARD_LABELS[k]}：{shown[k]}" for k in CARD_LABELS if shown.get(k)]
        body.controls = [
            semantic(
                ids.IDCARD_CONFIRMED,
                ft.Container(
                    ft.Column(
                        [
                            ft.Text("身份证信息已确认", size=16, weight=ft.FontWeight.BOLD),
                            *(ft.Text(line, size=15) for line in lines),
                        ],
                        spacing=4,
                    ),
                    bgcolor=ft.Colors.GREEN_50,
                    border_radius=8,
                    padding=12,
                ),
            ),
            primary_button(ids.IDCARD_NEXT, "下一步：返回个人中心", go(navigate, "/me")),
            semantic(
                ids.IDCARD_RETAKE,
                ft.TextButton(
                    content=ft.Text("重新拍摄身份证", size=16), on_click=show_capture, height=44
                ),
            ),
        ]
        body.update()

    async def load() -> None:
        try:
            latest = await state.api.latest_idcard()
        except ApiError as exc:
            error.show(exc.message)
            latest = None
        if latest is not None and latest.confirmed:
            show_confirmed(latest)
            return
        await panel.open()

    body.controls = panel.controls
    view = screen(
        ROUTE,
        "身份证识别",
        [
            step_indicator(2, 8, "身份证识别"),
            ft.Text(
                "拍摄身份证人像面(有照片的一面)，系统自动识别并填写信息。",
                size=14,
                color=ft.Colors.BLUE_GREY_700,
            ),
            error.control,
            body,
        ],
    )
    view.services = [panel.picker]
    view.data = load
    return view
