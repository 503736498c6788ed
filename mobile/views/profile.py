"""个人中心: who is logged in, where they are in the journey, log out."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import ids
from mobile.services.models import ApiError, Candidate
from mobile.state import AppState
from mobile.views.common import (
    PRIMARY,
    Banner,
    Navigate,
    go,
    link_button,
    primary_button,
    screen,
    semantic,
    set_busy,
)

ROUTE = "/me"

# Journey steps that have a screen so far.
SCREENS = {
    "idcard": "/idcard",
    "liveness": "/liveness",
    "photo": "/photo",
    "enrollment": "/enroll",
    "payment": "/orders",
    "documents": "/orders",
}
KINDS = {"new": "新生", "enrolled": "在籍考生"}


def finished(status: str) -> bool:
    """The candidate's part of a step is done ("waiting": a person decides the rest)."""
    return status in ("done", "waiting")


STATUS_ICONS = {
    "done": (ft.Icons.CHECK_CIRCLE, ft.Colors.GREEN_700, "已完成"),
    "waiting": (ft.Icons.HOURGLASS_TOP, ft.Colors.ORANGE_800, "待人工审核"),
    "current": (ft.Icons.RADIO_BUTTON_CHECKED, PRIMARY, "进行中"),
    "todo": (ft.Icons.RADIO_BUTTON_UNCHECKED, ft.Colors.BLUE_GREY_300, "未开始"),
}


def _info_row(label: str, value: str, identifier: str | None = None) -> ft.Control:
    text = ft.Text(value, size=15)
    return ft.Row(
        [
            ft.Text(label, size=15, color=ft.Colors.BLUE_GREY_600, width=84),
            semantic(identifier, text) if identifier else text,
        ],
    )


def _journey(candidate: Candidate, navigate: Navigate) -> ft.Control:
    rows: list[ft.Control] = []
    # After a rejection, the rejected parts open again.
    redo = set(candidate.review.get("parts") or [])
    for number, step in enumerate(candidate.journey, start=1):
        icon, color, status_text = STATUS_ICONS.get(step.status, STATUS_ICONS["todo"])
        rows.append(
            semantic(
                ids.journey_step(step.key),
                ft.ListTile(
                    leading=ft.Icon(icon, color=color),
                    title=ft.Text(
                        f"{number}. {step.title}",
                        size=16,
                        weight=ft.FontWeight.BOLD if step.status == "current" else None,
                    ),
                    subtitle=ft.Text(step.detail) if step.detail else None,
                    trailing=ft.Text(status_text, color=color, size=14),
                    min_height=52,
                    # Steps with a screen open it (a step not yet current can be prepared early).
                    on_click=go(navigate, SCREENS[step.key])
                    if step.key in SCREENS and (not finished(step.status) or step.key in redo)
                    else None,
                ),
            )
        )
    return semantic(ids.PROFILE_JOURNEY, ft.Column(rows, spacing=0))


REVIEW_COLOURS = {
    "pending": (ft.Colors.BLUE_50, ft.Colors.BLUE_900),
    "approved": (ft.Colors.GREEN_50, ft.Colors.GREEN_900),
    "rejected": (ft.Colors.RED_50, ft.Colors.RED_900),
    "unlocked": (ft.Colors.ORANGE_50, ft.Colors.ORANGE_900),
    "none": (ft.Colors.BLUE_GREY_50, ft.Colors.BLUE_GREY_900),
}
PART_NAMES = {
    "idcard": "身份证信息",
    "liveness": "人脸识别",
    "photo": "证件照",
    "profile": "报名信息",
    "materials": "证明材料",
}


def _review(
    candidate: Candidate, submit_button: ft.Control, refresh: Any, redo_materials: Any
) -> ft.Control | None:
    """资格审核 on 个人中心: where it stands, why it was rejected, 提交资格审核."""
    review = candidate.review
    status = candidate.review_status
    # The server decides when the identity is complete (backend_stub.domain.identity).
    if status == "none" and not review.get("identity_complete"):
        return None
    message = str(review.get("message", ""))
    heading = message if message.startswith("资格审核") else f"资格审核：{message}"
    lines = [ft.Text(heading, size=15)]
    if review.get("reason"):
        lines.append(ft.Text(f"原因：{review['reason']}", size=15, weight=ft.FontWeight.BOLD))
    if review.get("parts"):
        redo = "、".join(PART_NAMES.get(p, p) for p in review["parts"])
        lines.append(
            ft.Text(f"请重新完成：{redo}(在下方报名进度中点击对应步骤)，然后重新提交。", size=14)
        )
    background, colour = REVIEW_COLOURS.get(status, REVIEW_COLOURS["none"])
    for line in lines:
        line.color = colour
    controls: list[ft.Control] = [
        semantic(
            ids.PROFILE_REVIEW,
            ft.Container(
                ft.Column([*lines], spacing=4), bgcolor=background, border_radius=8, padding=12
            ),
        )
    ]
    if status == "rejected" and "materials" in (review.get("parts") or []):
        # Proof documents have no journey step: they are uploaded where the special
        # major is chosen.
        controls.append(
            link_button(ids.PROFILE_REDO_MATERIALS, "去重新上传证明材料", redo_materials)
        )
    if status in ("none", "rejected", "unlocked"):
        controls.append(submit_button)
    if status == "pending":
        controls.append(link_button(ids.PROFILE_REFRESH, "刷新审核状态", refresh))
    return ft.Column(controls, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def build(state: AppState, navigate: Navigate) -> ft.View:
    candidate = state.candidate
    assert candidate is not None, "the router only shows 个人中心 when logged in"
    notice = Banner(ids.FORM_NOTICE, error=False, message=state.take_notice())
    error = Banner(ids.FORM_ERROR)

    async def logout(_e: ft.Event[ft.OutlinedButton]) -> None:
        try:
            await state.api.logout()
        except ApiError:
            pass  # The token is dropped locally either way.
        state.candidate = None
        state.notice = "已退出登录。"
        await navigate("/login")

    async def submit_review(_e: Any) -> None:
        error.clear()
        set_busy(submit_button, True)
        try:
            await state.api.submit_review()
            state.candidate = await state.api.me()
        except ApiError as exc:
            error.show(exc.message)
            return
        finally:
            set_busy(submit_button, False)
        state.notice = "已提交资格审核，请等待考试机构审核。"
        await navigate(ROUTE)

    submit_button = primary_button(ids.PROFILE_SUBMIT_REVIEW, "提交资格审核", submit_review)
    review_card = _review(candidate, submit_button, go(navigate, ROUTE), go(navigate, "/enroll"))
    current = next((s for s in candidate.journey if s.status == "current"), None)
    next_step = f"下一步：{current.title}。{current.detail}" if current else "报名流程已全部完成。"
    # At 资格审核 the review card below says where things stand: no second box saying it.
    show_next = review_card is None or current is None or current.key != "review"
    # The first unfinished step the candidate can act on (资格审核 is the office's part).
    # 报考 and after wait for the approval.
    approved = any(s.key == "review" and s.status == "done" for s in candidate.journey)
    actionable = next(
        (
            s
            for s in candidate.journey
            if not finished(s.status)
            and s.key in SCREENS
            and (approved or s.key in ("idcard", "liveness", "photo"))
        ),
        None,
    )
    next_route = SCREENS[actionable.key] if actionable else None
    return screen(
        ROUTE,
        "个人中心",
        [
            notice.control,
            ft.Card(
                ft.Container(
                    ft.Column(
                        [
                            ft.Row(
                                [
                                    ft.CircleAvatar(
                                        content=ft.Text(candidate.name[:1], size=20),
                                        radius=26,
                                        bgcolor=ft.Colors.BLUE_100,
                                    ),
                                    ft.Column(
                                        [
                                            semantic(
                                                ids.PROFILE_NAME,
                                                ft.Text(
                                                    candidate.name,
                                                    size=20,
                                                    weight=ft.FontWeight.BOLD,
                                                ),
                                            ),
                                            ft.Text(
                                                KINDS.get(candidate.kind, candidate.kind),
                                                size=14,
                                                color=ft.Colors.BLUE_GREY_600,
                                            ),
                                        ],
                                        spacing=2,
                                    ),
                                ]
                            ),
                            ft.Divider(),
                            _info_row(
                                "身份证号", candidate.masked_id_number, ids.PROFILE_ID_NUMBER
                            ),
                            _info_row("性别", candidate.sex),
                            _info_row("出生日期", candidate.birth_date),
                            _info_row(
                                "手机号", candidate.phone[:3] + "****" + candidate.phone[-4:]
                            ),
                            _info_row("报名地州", candidate.exam_district_name),
                            *(
                                [_info_row("准考证号", candidate.ticket_number)]
                                if candidate.ticket_number
                                else []
                            ),
                        ],
                        spacing=8,
                    ),
                    padding=16,
                )
            ),
            *(
                [
                    semantic(
                        ids.PROFILE_NEXT_STEP,
                        ft.Container(
                            ft.Text(next_step, size=15),
                            bgcolor=ft.Colors.BLUE_50,
                            border_radius=8,
                            padding=12,
                        ),
                    )
                ]
                if show_next
                else []
            ),
            *(
                [
                    primary_button(
                        ids.PROFILE_GO_NEXT,
                        f"去完成：{actionable.title}",
                        go(navigate, next_route),
                    )
                ]
                if actionable and next_route
                else []
            ),
            *([review_card] if review_card else []),
            ft.Text("报名进度", size=16, weight=ft.FontWeight.BOLD, color=PRIMARY),
            _journey(candidate, navigate),
            error.control,
            semantic(
                ids.LOGOUT,
                ft.OutlinedButton(content=ft.Text("退出登录", size=16), on_click=logout, height=48),
            ),
        ],
        back=False,
    )
