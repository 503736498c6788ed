"""证件照: choose a photo, see at once what is wrong, fix it in one tap, submit it."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState
from mobile.views.camera import CameraPanel, guide_frame
from mobile.views.common import (
    Banner,
    Navigate,
    primary_button,
    screen,
    semantic,
    set_busy,
    step_indicator,
)

ROUTE = "/photo"
PROFILE = "hubei"


def local_problems(data: bytes) -> list[str]:
    """The rules the phone checks itself (Pillow only): format, size, dimensions, dpi."""
    from verification import photo
    from verification.errors import VerificationError

    try:
        result = photo.check_file(data, photo.profile(PROFILE))
    except VerificationError as exc:
        return [exc.message]
    return [p.message for p in result.problems]


def build(state: AppState, navigate: Navigate) -> ft.View:
    from verification.photo import profile

    spec = profile(PROFILE)
    error = Banner(ids.FORM_ERROR)
    problems = Banner(ids.PHOTO_PROBLEMS)
    current: dict[str, bytes | None] = {"photo": None}
    # Semantics wrappers are what is hidden: Flutter wants a Semantics' content visible.
    before = semantic(
        ids.PHOTO_PREVIEW,
        ft.Image(src=b"", width=150, height=200, fit=ft.BoxFit.CONTAIN),
        visible=False,
    )
    after = semantic(
        ids.PHOTO_FIXED_PREVIEW,
        ft.Image(src=b"", width=150, height=200, fit=ft.BoxFit.CONTAIN),
        visible=False,
    )
    replace = ft.Checkbox(
        label=f"把背景换成{spec.background_name}", value=False, visible=spec.background_edit_allowed
    )
    actions = ft.Column(
        spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, visible=False
    )

    def show(data: bytes, target: ft.Semantics, messages: list[str]) -> None:
        current["photo"] = data
        target.content.src = data  # type: ignore[union-attr]
        target.visible = True
        target.update()
        actions.visible = True
        actions.update()
        problems.tone(bool(messages))
        if messages:
            problems.show("需要修改：\n" + "\n".join(f"· {m}" for m in messages))
        else:
            problems.show("照片的格式、尺寸和大小都符合要求，可以提交。")

    async def chosen(data: bytes) -> None:
        error.clear()
        after.visible = False
        after.update()
        show(data, before, local_problems(data))

    panel = CameraPanel(
        ids=(ids.PHOTO_CAMERA, ids.PHOTO_TAKE, ids.PHOTO_PICK),
        shutter_label="拍照",
        pick_label="选择照片",
        guide=guide_frame(150, 190, radius=95),
        hint="请在纯色背景前，正对镜头，免冠，露出双耳和眉毛",
        front=True,
        on_file=chosen,
        no_camera="未检测到可用的摄像头，请选择已拍好的照片。",
        height=320,
    )

    panel.shoot_photos(chosen, lambda: error.show("拍照失败，请重试，或选择已拍好的照片。"))

    async def fix(_e: Any) -> None:
        if current["photo"] is None:
            return
        error.clear()
        set_busy(fix_button, True)
        try:
            fixed, body = await state.api.fix_photo(
                current["photo"], replace_background=bool(replace.value)
            )
        except ApiError as exc:
            error.show(exc.message)
            return
        finally:
            set_busy(fix_button, False)
        show(fixed, after, [p["message"] for p in body["check"]["problems"]])

    async def submit(_e: Any) -> None:
        if current["photo"] is None:
            return
        error.clear()
        set_busy(submit_button, True)
        try:
            await state.api.submit_photo(current["photo"])
        except ApiError as exc:
            error.show(exc.message)
            return
        finally:
            set_busy(submit_button, False)
        state.notice = "证件照已提交。"
        await navigate("/me")

    fix_button = primary_button(ids.PHOTO_FIX, "一键修正", fix)
    submit_button = primary_button(ids.PHOTO_SUBMIT, "提交证件照", submit)
    actions.controls = [semantic(ids.PHOTO_REPLACE_BACKGROUND, replace), fix_button, submit_button]
    view = screen(
        ROUTE,
        "证件照",
        [
            step_indicator(4, 8, "证件照"),
            ft.Text(
                f"要求：免冠、{spec.background_name}背景、JPG格式、{spec.width}×{spec.height}像素、"
                f"{spec.min_bytes // 1024}-{spec.max_bytes // 1024}KB、{spec.dpi}dpi。照片将与身份证照片比对。",
                size=14,
                color=ft.Colors.BLUE_GREY_700,
            ),
            *panel.controls,
            ft.Row(
                [before, after],
                alignment=ft.MainAxisAlignment.SPACE_AROUND,
            ),
            problems.control,
            error.control,
            actions,
        ],
    )
    view.services = [panel.picker]
    view.data = panel.open
    return view
