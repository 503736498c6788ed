"""证件照: take or choose a photo, see at once what is wrong, fix it in one tap, submit it.

States, one primary action each: the camera (拍照) → a photo with problems (一键修正;
提交 disabled) → a compliant photo (提交证件照). The original and the corrected photo are
shown side by side, labelled; 重新拍摄 goes back to the camera."""

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
    link_button,
    primary_button,
    screen,
    semantic,
    set_busy,
    step_indicator,
)
from rules import photo as rules

ROUTE = "/photo"


def local_problems(data: bytes, spec: rules.Profile) -> list[str]:
    """The file rules the phone checks itself (Pillow only), before any upload."""
    return [p.message for p in rules.check_file(data, spec).problems]


PREVIEW_W, PREVIEW_H = 150, 200
MARK = ft.Colors.RED_700


def labelled(identifier: str, caption: str, caption_id: str) -> ft.Semantics:
    """A photo preview with its caption (原图 / 修正后); hidden until it has a photo. Over
    the photo, a layer for the marks of the problems found in it."""
    return semantic(
        identifier,
        ft.Column(
            [
                ft.Stack(
                    [
                        ft.Image(src=b"", width=PREVIEW_W, height=PREVIEW_H, fit=ft.BoxFit.CONTAIN),
                        ft.Stack([], width=PREVIEW_W, height=PREVIEW_H),
                    ],
                    width=PREVIEW_W,
                    height=PREVIEW_H,
                ),
                semantic(caption_id, ft.Text(caption, size=14, weight=ft.FontWeight.BOLD)),
            ],
            horizontal_alignment=ft.CrossAxisAlignment.CENTER,
            spacing=4,
        ),
        visible=False,
    )


def photo_size(data: bytes) -> tuple[int, int] | None:
    """The photo's width and height as shown (EXIF rotation applied), or None."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            w, h = image.size
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # Pillow raises many kinds for a broken file
        return None
    return (h, w) if turned else (w, h)


def marks(data: bytes, regions: dict[str, list[int]], order: list[str]) -> list[ft.Control]:
    """A numbered red frame over each region a problem was found in (the photo's pixels
    mapped to the preview, which shows the whole photo contained in PREVIEW_W × PREVIEW_H);
    the number is the problem's place in the list under the photos."""
    size = photo_size(data)
    if size is None:
        return []
    w, h = size
    scale = min(PREVIEW_W / w, PREVIEW_H / h)
    dx, dy = (PREVIEW_W - w * scale) / 2, (PREVIEW_H - h * scale) / 2
    drawn: list[ft.Control] = []
    for number, code in enumerate(order, start=1):
        if code not in regions:
            continue
        x0, y0, x1, y1 = regions[code]
        left = max(0.0, dx + x0 * scale)
        top = max(0.0, dy + y0 * scale)
        width = min(PREVIEW_W - left, max(6.0, (x1 - x0) * scale))
        height = min(PREVIEW_H - top, max(6.0, (y1 - y0) * scale))
        drawn.append(
            ft.Container(
                left=left,
                top=top,
                width=width,
                height=height,
                border=ft.Border.all(2, MARK),
                border_radius=3,
            )
        )
        drawn.append(
            ft.Container(
                ft.Text(str(number), size=11, color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD),
                left=left,
                top=max(0.0, top - 16),
                width=16,
                height=16,
                bgcolor=MARK,
                border_radius=8,
                alignment=ft.Alignment.CENTER,
            )
        )
    return drawn


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    notice = Banner(ids.FORM_NOTICE, error=False)
    problems = Banner(ids.PHOTO_PROBLEMS)
    spec_text = ft.Text("正在读取照片要求…", size=14, color=ft.Colors.BLUE_GREY_700)
    current: dict[str, Any] = {"photo": None, "spec": None}
    before = labelled(ids.PHOTO_PREVIEW, "原图", ids.PHOTO_CAPTION_BEFORE)
    after = labelled(ids.PHOTO_FIXED_PREVIEW, "修正后", ids.PHOTO_CAPTION_AFTER)
    replace = ft.Checkbox(label="", value=False, visible=False)
    results = ft.Column(
        spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, visible=False
    )

    def layers(preview: ft.Semantics) -> tuple[ft.Image, ft.Stack]:
        column = preview.content
        assert isinstance(column, ft.Column) and isinstance(column.controls[0], ft.Stack)
        image, drawn = column.controls[0].controls
        assert isinstance(image, ft.Image) and isinstance(drawn, ft.Stack)
        return image, drawn

    def image_of(preview: ft.Semantics) -> ft.Image:
        return layers(preview)[0]

    def mark(
        preview: ft.Semantics, data: bytes | None, checked: dict[str, Any] | None
    ) -> list[str]:
        """Frame on the photo where each problem is; returns the problems' messages, each
        marked with its frame's number when it has one."""
        drawn = layers(preview)[1]
        found = checked["problems"] if checked else []
        regions = (checked or {}).get("measurements", {}).get("problem_regions", {})
        order = [p["code"] for p in found]
        drawn.controls = marks(data, regions, order) if data and regions else []
        drawn.update()
        return [
            f"{p['message']}(图中{n})" if p["code"] in regions else p["message"]
            for n, p in enumerate(found, start=1)
        ]

    def fix_helps(checked: dict[str, Any]) -> bool:
        spec = current["spec"]
        codes = [p["code"] for p in checked.get("problems", [])]
        return spec is None or rules.fixable(codes, spec)

    def show_state(messages: list[str], *, checked: bool, can_fix: bool = True) -> None:
        """Problems, or the all-clear once the server has checked everything; the one
        action that fits (一键修正 only when it would put something right)."""
        ok = checked and not messages
        problems.tone(bool(messages))
        if messages:
            retake_hint = "" if can_fix else "\n以上问题无法自动修正，请按提示重新拍摄。"
            problems.show("需要修改：\n" + "\n".join(f"· {m}" for m in messages) + retake_hint)
        elif ok:
            problems.show("照片符合全部要求，可以提交。")
        else:
            problems.show("格式、尺寸和大小符合要求，正在检查人像和背景…")
        fix_box.visible = bool(messages) and can_fix
        submit_hint.visible = not ok
        for control in (fix_box, submit_hint):
            control.update()
        set_busy(submit_button, not ok)

    async def chosen(data: bytes) -> None:
        """A new original: checked on the phone at once, then fully by the server."""
        error.clear()
        current["photo"] = data
        camera_box.visible = False
        camera_box.update()
        image_of(before).src = data
        before.visible, after.visible = True, False
        results.visible = True
        for control in (before, after, results):
            control.update()
        mark(before, None, None)
        spec = current["spec"]
        messages = local_problems(data, spec) if spec is not None else []
        show_state(messages, checked=False)
        if messages:
            return  # what the phone sees is enough to say: fix it first
        try:
            body = await state.api.check_photo(data)
        except ApiError as exc:
            error.show(exc.message)
            return
        show_state(mark(before, data, body), checked=True, can_fix=fix_helps(body))

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
    camera_box = ft.Column(
        panel.controls, spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH
    )

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
        current["photo"] = fixed
        image_of(after).src = fixed
        after.visible = True
        after.update()
        mark(before, None, None)  # the frames were for the original's problems
        show_state(
            mark(after, fixed, body["check"]), checked=True, can_fix=fix_helps(body["check"])
        )

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

    async def retake(_e: Any) -> None:
        current["photo"] = None
        results.visible = False
        camera_box.visible = True
        error.clear()
        results.update()
        camera_box.update()

    async def load() -> None:
        candidate = state.candidate
        if candidate is not None and any(
            s.key == "photo" and s.status == "done" for s in candidate.journey
        ):
            # Back on this screen with a photo on file: say so; a new one may replace it.
            notice.show("您已提交证件照。如需更换，可重新拍摄或选择照片，检查通过后再次提交。")
        try:
            spec = rules.PROFILES[await state.api.photo_profile()]
        except (ApiError, KeyError) as exc:
            error.show(exc.message if isinstance(exc, ApiError) else "照片规格未知，请更新应用。")
            spec = None
        current["spec"] = spec
        if spec is not None:
            spec_text.value = (
                f"要求：免冠、{spec.background_name}背景、JPG格式、{spec.width}×{spec.height}像素、"
                f"{spec.min_bytes // 1024}-{spec.max_bytes // 1024}KB、{spec.dpi}dpi。"
                "照片将与身份证照片比对。"
            )
            replace.label = f"同时把背景换成{spec.background_name}"
            replace.visible = spec.background_edit_allowed
            spec_text.update()
            replace.update()
        await panel.open()

    fix_button = primary_button(ids.PHOTO_FIX, "一键修正", fix)
    fix_box = ft.Column(
        [semantic(ids.PHOTO_REPLACE_BACKGROUND, replace), fix_button],
        spacing=8,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        visible=False,
    )
    submit_button = primary_button(ids.PHOTO_SUBMIT, "提交证件照", submit)
    submit_hint = ft.Text(
        "照片符合全部要求后才能提交。", size=13, color=ft.Colors.BLUE_GREY_600, visible=False
    )
    results.controls = [
        ft.Row([before, after], alignment=ft.MainAxisAlignment.SPACE_AROUND),
        problems.control,
        fix_box,
        submit_button,
        submit_hint,
        link_button(ids.PHOTO_RETAKE, "重新拍摄或选择照片", retake),
    ]
    view = screen(
        ROUTE,
        "证件照",
        [
            step_indicator(4, 8, "证件照"),
            semantic(ids.PHOTO_SPEC, spec_text),
            notice.control,
            results,
            error.control,
            camera_box,
        ],
    )
    view.services = [panel.picker]
    view.data = load
    return view
