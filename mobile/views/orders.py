"""我的订单: every order with its status; pay, cancel, or download its documents."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState
from mobile.views.common import Banner, Navigate, screen, semantic
from rules import beijing
from rules.display import yuan

ROUTE = "/orders"

STATUS_COLOURS = {
    "pending": ft.Colors.ORANGE_800,
    "paid": ft.Colors.GREEN_800,
    "cancelled": ft.Colors.BLUE_GREY_500,
    "lapsed": ft.Colors.BLUE_GREY_500,
}
DOCUMENTS = {"receipt": "下载报考回执单", "ticket": "下载准考证"}


async def open_document(state: AppState, order_id: int, kind: str, error: Banner) -> None:
    """Open a PDF of the order in the browser (a one-time link; no token in the URL)."""
    try:
        url = await state.api.document_link(order_id, kind)
    except ApiError as exc:
        error.show(exc.message)
        return
    await ft.UrlLauncher().launch_url(url)


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    notice = Banner(ids.FORM_NOTICE, error=False, message=state.take_notice())
    listing = ft.Column(spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    async def load() -> None:
        try:
            found = await state.api.orders()
        except ApiError as exc:
            error.show(exc.message)
            return
        listing.controls = [card(o) for o in found] or [
            semantic(
                ids.ORDERS_EMPTY,
                ft.Text(
                    "还没有订单。完成报考后将生成订单。", size=15, color=ft.Colors.BLUE_GREY_600
                ),
            )
        ]
        listing.update()

    def card(order: dict[str, Any]) -> ft.Control:
        order_id = order["id"]

        async def pay(_e: Any) -> None:
            state.order_id = order_id
            await navigate("/pay")

        async def cancel(_e: Any) -> None:
            error.clear()
            try:
                await state.api.cancel_order(order_id)
            except ApiError as exc:
                error.show(exc.message)
                return
            notice.show("订单已取消，座位已释放，可重新报考。")
            await load()

        def document(kind: str) -> Any:
            async def handler(_e: Any) -> None:
                error.clear()
                await open_document(state, order_id, kind, error)

            return handler

        buttons: list[ft.Control] = []
        if order["status"] == "pending":
            buttons += [
                semantic(
                    ids.order_action(order_id, "pay"),
                    ft.FilledButton(content=ft.Text("去支付", size=15), on_click=pay, height=44),
                ),
                semantic(
                    ids.order_action(order_id, "cancel"),
                    ft.OutlinedButton(
                        content=ft.Text("取消订单", size=15), on_click=cancel, height=44
                    ),
                ),
            ]
        for kind in order["documents"]:
            buttons.append(
                semantic(
                    ids.order_action(order_id, kind),
                    ft.OutlinedButton(
                        content=ft.Text(DOCUMENTS[kind], size=15),
                        on_click=document(kind),
                        height=44,
                    ),
                )
            )
        courses = "、".join(i["name"] for i in order["items"])
        lines = [
            f"{order['session']} · {order['major']}",
            f"考点：{order['site']}",
            f"项目：{courses}",
            f"金额：{yuan(order['total_fen'])}",
        ]
        deadline = (
            [
                semantic(
                    ids.order_action(order_id, "deadline"),
                    ft.Text(
                        f"请于 {beijing.minutes(order['expires_at'])}(北京时间)前缴费", size=15
                    ),
                )
            ]
            if order["status"] == "pending"
            else []
        )
        return semantic(
            ids.order_card(order_id),
            ft.Card(
                ft.Container(
                    ft.Column(
                        [
                            ft.Row(
                                [
                                    ft.Text(f"订单 {order['out_trade_no']}", size=13),
                                    ft.Text(
                                        order["status_text"],
                                        size=15,
                                        weight=ft.FontWeight.BOLD,
                                        color=STATUS_COLOURS.get(order["status"]),
                                    ),
                                ],
                                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                            ),
                            *[ft.Text(line, size=15) for line in lines],
                            *deadline,
                            ft.Row(buttons, wrap=True, spacing=8, run_spacing=8),
                        ],
                        spacing=6,
                    ),
                    padding=14,
                )
            ),
        )

    view = screen(
        ROUTE,
        "我的订单",
        [notice.control, error.control, semantic(ids.ORDERS_LIST, listing)],
    )
    view.data = load
    return view
