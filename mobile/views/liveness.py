"""人脸识别: read the server's digits aloud on camera; the verdict in plain words."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState
from mobile.views.camera import CameraPanel, guide_frame
from mobile.views.common import (
    PRIMARY,
    Banner,
    Navigate,
    button_label,
    go,
    link_button,
    primary_button,
    screen,
    semantic,
    set_busy,
    step_indicator,
    upload_feedback,
)

ROUTE = "/liveness"
MAX_SECONDS = 6  # recording stops by itself; the backend accepts 2–10 s
COUNTDOWN = 3  # seconds to get ready after 开始录制, before the camera records
TIPS = (
    "录制要点：\n"
    "· 本人手持手机，脸部正对镜头、完整放入框内\n"
    "· 光线充足，不戴帽子、口罩、墨镜\n"
    "· 看清数字后，用普通话清楚、连贯地读出来\n"
    "· 周围安静，读完即可停止\n"
    "· 请勿对着照片、屏幕或视频录制，系统会识别"
)
VERDICT_TEXT = {
    "pass": "人脸识别通过。",
    "review": "视频已提交，系统无法自动确认全部项目，将由考试机构人工审核，请留意审核结果。",
    "fail": "人脸识别未通过：",
}


def _spaced(digits: str) -> str:
    return "  ".join(digits)


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    status = Banner(ids.LIVE_STATUS, error=False)
    result = Banner(ids.LIVE_RESULT)
    digits_text = ft.Text("", size=44, weight=ft.FontWeight.BOLD, color=PRIMARY)
    attempts_text = ft.Text("", size=14, color=ft.Colors.BLUE_GREY_700)
    digits_card = ft.Container(
        ft.Column(
            [
                ft.Text("请正对镜头，用普通话读出以下数字：", size=15),
                semantic(ids.LIVE_DIGITS, digits_text),
                semantic(ids.LIVE_ATTEMPTS, attempts_text),
            ],
            horizontal_alignment=ft.CrossAxisAlignment.CENTER,
            spacing=6,
        ),
        padding=14,
        border_radius=12,
        bgcolor=ft.Colors.BLUE_50,
        visible=False,
    )
    progress = ft.ProgressBar(value=0, color=PRIMARY, bgcolor=ft.Colors.BLUE_GREY_100)
    progress_text = ft.Text("", size=14)
    progress_box = semantic(
        ids.LIVE_PROGRESS, ft.Column([progress_text, progress], spacing=8), visible=False
    )
    body = ft.Column(spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, visible=False)
    current: dict[str, Any] = {"challenge": None, "recording": False, "timer": None}
    rec_dot = ft.Icon(ft.Icons.FIBER_MANUAL_RECORD, color=ft.Colors.RED_600, size=22)
    rec_text = ft.Text("", size=18, weight=ft.FontWeight.BOLD)
    rec = semantic(
        ids.LIVE_REC,
        ft.Container(
            ft.Row([rec_dot, rec_text], alignment=ft.MainAxisAlignment.CENTER, spacing=6),
            padding=8,
            border_radius=8,
            bgcolor=ft.Colors.RED_50,
        ),
        visible=False,
    )

    def show_rec(text: str, *, dot: bool) -> None:
        rec_text.value = text
        rec_dot.visible = dot
        rec.visible = bool(text)
        rec.update()

    async def upload(data: bytes) -> None:
        challenge = current["challenge"]
        if challenge is None:
            return
        error.clear()
        body.visible = False
        body.update()
        progress.value = 0
        progress_text.value = "正在上传… 0%"
        progress_box.visible = True
        progress_box.update()

        on_progress, on_status = upload_feedback(progress, progress_text, "正在比对，请稍候…")

        try:
            attempt = await state.api.upload_liveness(
                challenge["id"], data, on_progress=on_progress, on_status=on_status
            )
        except ApiError as exc:
            progress_box.visible = False
            progress_box.update()
            body.visible = True
            body.update()
            error.show(exc.message)
            if exc.code in ("challenge_expired", "challenge_used"):
                await refresh()
            return
        progress_box.visible = False
        progress_box.update()
        await show_verdict(attempt)

    async def show_verdict(attempt: dict[str, Any]) -> None:
        show_rec("", dot=False)
        verdict = attempt["verdict"]
        text = VERDICT_TEXT[verdict]
        if verdict == "fail":
            text += "".join(f"\n· {r['message']}" for r in attempt["reasons"])
        result.tone(verdict == "fail")
        result.show(text)
        try:
            overview = await state.api.liveness()
        except ApiError as exc:
            error.show(exc.message)
            return
        digits_card.visible = False
        digits_card.update()
        if verdict == "fail" and overview["status"] == "todo":
            retry.visible = True
            button_label(retry).value = f"重新录制(还可尝试 {overview['attempts_left']} 次)"
            retry.update()
        else:
            if overview["status"] == "on_site":  # the last failure: say what happens now
                status.tone(True)
                status.show(overview["message"])
            # Passed, sent to a person, or on site: the journey goes on from 个人中心.
            next_button.visible = True
            tips.visible = False
            next_button.update()
            tips.update()

    panel = CameraPanel(
        ids=(ids.LIVE_CAMERA, ids.LIVE_RECORD, ids.LIVE_PICK),
        shutter_label="开始录制",
        pick_label="选择已录好的视频",
        guide=guide_frame(170, 220, radius=110),
        hint="脸部放入框内，光线充足，读完数字后点击停止",
        front=True,
        on_file=upload,
        no_camera="未检测到可用的摄像头，请用手机录制朗读数字的视频后选择上传。",
        file_type=ft.FilePickerFileType.VIDEO,
        audio=True,
        height=300,
    )
    shutter_text = button_label(panel.shutter)

    async def stop(*, by_itself: bool = False) -> None:
        if not current["recording"]:
            return
        current["recording"] = False
        show_rec(f"已录满{MAX_SECONDS}秒，自动停止" if by_itself else "", dot=False)
        set_busy(panel.shutter, True)
        try:
            data = await panel.camera.stop_video_recording()
        except Exception:  # The camera plugin reports failures as plain errors.
            error.show("录制失败，请重试，或选择已录好的视频。")
            return
        finally:
            shutter_text.value = "开始录制"
            set_busy(panel.shutter, False)
        await upload(data)

    async def record(_e: Any) -> None:
        if current["recording"]:
            if current["timer"] is not None:
                current["timer"].cancel()
            await stop()
            return
        if current.get("counting"):
            return
        error.clear()
        # A short countdown: the candidate settles the phone and reads the digits first.
        current["counting"] = True
        set_busy(panel.shutter, True)
        for left in range(COUNTDOWN, 0, -1):
            show_rec(f"{left} 秒后开始录制，请看好数字", dot=False)
            await asyncio.sleep(1)
        current["counting"] = False
        set_busy(panel.shutter, False)
        try:
            await panel.camera.start_video_recording()
        except Exception:
            show_rec("", dot=False)
            error.show("无法开始录制，请检查摄像头和麦克风权限，或选择已录好的视频。")
            return
        current["recording"] = True
        shutter_text.value = "停止录制"
        panel.shutter.update()

        async def auto_stop() -> None:
            for left in range(MAX_SECONDS, 0, -1):
                show_rec(f"录制中 · 还剩 {left} 秒", dot=True)
                await asyncio.sleep(1)
            await stop(by_itself=True)

        current["timer"] = asyncio.create_task(auto_stop())

    panel.on_shutter(record)

    async def refresh(_e: Any = None) -> None:
        """Show where the candidate stands; issue digits when another attempt is allowed."""
        retry.visible = next_button.visible = False
        next_button.update()
        result.clear()
        try:
            overview = await state.api.liveness()
            if overview["status"] != "todo":
                status.tone(overview["status"] == "on_site")
                status.show(overview["message"])
                body.visible = tips.visible = False
                digits_card.visible = False
                next_button.visible = True
                for control in (body, digits_card, retry, tips, next_button):
                    control.update()
                return
            challenge = await state.api.new_challenge()
        except ApiError as exc:
            error.show(exc.message)
            return
        current["challenge"] = challenge
        digits_text.value = _spaced(challenge["digits"])
        attempts_text.value = f"数字5分钟内有效 · 还可尝试 {challenge['attempts_left']} 次"
        digits_card.visible = True
        body.visible = True
        for control in (digits_card, body, retry):
            control.update()
        await panel.open()

    retry = link_button(ids.LIVE_RETRY, "重新录制", refresh)
    retry.visible = False
    next_button = primary_button(ids.LIVE_NEXT, "下一步：返回个人中心", go(navigate, "/me"))
    next_button.visible = False
    tips = semantic(
        ids.LIVE_TIPS,
        ft.Container(
            ft.Text(TIPS, size=14, color=ft.Colors.BLUE_GREY_800),
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.BLUE_GREY_50,
        ),
    )
    body.controls = panel.controls
    view = screen(
        ROUTE,
        "人脸识别",
        [
            step_indicator(3, 8, "人脸识别"),
            ft.Text(
                "录制一段 3-6 秒的视频：正对镜头，读出屏幕上的数字。系统将检测是否本人操作，"
                "并与身份证照片比对。机会有限，用完仍未通过需到报名点现场确认。",
                size=14,
                color=ft.Colors.BLUE_GREY_700,
            ),
            tips,
            status.control,
            digits_card,
            rec,
            error.control,
            body,
            progress_box,
            result.control,
            retry,
            next_button,
        ],
    )
    view.services = [panel.picker]
    view.data = refresh
    return view
