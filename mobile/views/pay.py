"""缴费: the order's QR code with a countdown; the app polls the order, and 查询缴费结果
asks the backend to query the payment provider. Paid: 已缴费 and the documents."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState, countdown_label
from mobile.views.common import (
    Banner,
    Navigate,
    go,
    link_button,
    primary_button,
    screen,
    semantic,
    set_busy,
    step_indicator,
)
from mobile.views.orders import DOCUMENTS, open_document
from rules.display import yuan

ROUTE = "/pay"
POLL_SECONDS = 3


def qr_png(text: str) -> bytes:
    """The QR code of `text` as a PNG (segno: pure Python, runs on phones)."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=3)
    return buffer.getvalue()


def build(state: AppState, navigate: Navigate) -> ft.View:
    error = Banner(ids.FORM_ERROR)
    status = Banner(ids.PAY_STATUS, error=False)
    summary = ft.Text("正在加载订单…", size=15)
    qr = semantic(
        ids.PAY_QR,
        ft.Container(
            ft.Image(src=b"", width=240, height=240, fit=ft.BoxFit.CONTAIN),
            alignment=ft.Alignment.CENTER,
        ),
        visible=False,
    )
    countdown = ft.Text("", size=16, text_align=ft.TextAlign.CENTER)
    code: dict[str, Any] = {"deadline": 0.0, "order": None}
    how = ft.Text("", size=14, color=ft.Colors.BLUE_GREY_700)
    picker = ft.FilePicker()

    def instructions(minutes: int) -> str:
        return (
            f"用另一部手机：打开微信或支付宝“扫一扫”扫描下方二维码({minutes}分钟内有效，只能扫描一次)。\n"
            "只有这一部手机：点“去支付宝/微信支付”在本机付款；或点“保存二维码图片”，"
            "再在微信或支付宝“扫一扫”中从相册选取这张图片。"
        )

    def show_paid(order: dict[str, Any]) -> None:
        qr.visible = False
        qr.update()
        tester.visible = False
        tester.update()
        for control in (countdown_box, refresh_button, query_button, how_box, same_phone):
            control.visible = False
            control.update()
        status.tone(False)
        status.show(f"已缴费 {yuan(order['total_fen'])}，报考成功。")
        documents.controls = [
            semantic(
                ids.PAY_RECEIPT if kind == "receipt" else ids.PAY_TICKET,
                ft.OutlinedButton(
                    content=ft.Text(DOCUMENTS[kind], size=16),
                    on_click=document(order["id"], kind),
                    height=48,
                ),
            )
            for kind in order["documents"]
        ]
        documents.update()

    def document(order_id: int, kind: str) -> Any:
        async def handler(_e: Any) -> None:
            error.clear()
            await open_document(state, order_id, kind, error)

        return handler

    def settled(order: dict[str, Any]) -> bool:
        """Show a final state; True once the order is no longer waiting for payment."""
        code["order"] = order
        if order["status"] == "paid":
            show_paid(order)
            return True
        if order["status"] != "pending":
            qr.visible = False
            qr.update()
            status.tone(True)
            status.show(f"订单{order['status_text']}，无需支付。可在“我的订单”中查看或重新报考。")
            return True
        return False

    async def new_code(_e: Any = None) -> None:
        await show_code(await issue("qr", refresh_button))

    async def issue(channel: str, button: ft.Control) -> dict[str, Any] | None:
        """A new code or same-phone page from the backend (None: refused, shown)."""
        order = code["order"]
        if order is None:
            return None
        error.clear()
        set_busy(button, True)
        try:
            return await state.api.new_payment_code(order["id"], channel=channel)
        except ApiError as exc:
            if exc.code in ("order_paid", "order_cancelled", "order_lapsed"):
                settled(await state.api.order(order["id"]))
            else:
                error.show(exc.message)
            return None
        finally:
            set_busy(button, False)

    async def show_code(payment: dict[str, Any] | None) -> None:
        if payment is None:
            return
        code["png"] = qr_png(payment["code_url"])
        qr.content.content.src = code["png"]  # type: ignore[union-attr]
        how.value = instructions(max(1, round(payment["expires_in"] / 60)))
        how_box.visible = same_phone.visible = True
        how_box.update()
        same_phone.update()
        qr.visible = True
        qr.update()
        code["url"] = payment["code_url"] if payment["sandbox"] else None
        tester.visible = bool(code["url"])
        tester.update()
        code["deadline"] = time.monotonic() + payment["expires_in"]
        refresh_button.visible = False
        refresh_button.update()

    async def query(_e: Any) -> None:
        order = code["order"]
        if order is None:
            return
        error.clear()
        set_busy(query_button, True)
        try:
            order = await state.api.query_payment(order["id"])
        except ApiError as exc:
            error.show(exc.message)
            return
        finally:
            set_busy(query_button, False)
        if not settled(order):
            status.tone(True)
            status.show("暂未查询到缴费结果。如已付款，请稍候再查询。")

    async def load() -> None:
        if state.order_id is None:
            await navigate("/orders")
            return
        try:
            order = await state.api.order(state.order_id)
        except ApiError as exc:
            error.show(exc.message)
            return
        courses = "、".join(i["name"] for i in order["items"])
        summary.value = (
            f"订单号：{order['out_trade_no']}\n{order['session']} · {order['site']}\n"
            f"项目：{courses}\n应付金额：{yuan(order['total_fen'])}"
        )
        summary.update()
        if settled(order):
            return
        await new_code()
        code["watch"] = asyncio.create_task(watch(order["id"]))

    async def watch(order_id: int) -> None:
        """Count down every second and look at the order every few seconds, while this
        screen is shown."""
        tick = 0
        while state.route == ROUTE and state.order_id == order_id:
            left = code["deadline"] - time.monotonic()
            countdown.value = countdown_label(left)
            expired = left <= 0
            if refresh_button.visible != expired:
                refresh_button.visible = expired
                refresh_button.update()
            if expired and qr.visible:
                qr.visible = tester.visible = False
                qr.update()
                tester.update()
            countdown.update()
            if tick % POLL_SECONDS == 0:
                try:
                    if settled(await state.api.order(order_id)):
                        return
                except ApiError:
                    pass  # a missed poll: the next one, or 查询缴费结果, tries again
            tick += 1
            await asyncio.sleep(1)

    async def open_cashier(_e: Any) -> None:
        if code.get("url"):
            await ft.UrlLauncher().launch_url(code["url"])

    async def pay_here(_e: Any) -> None:
        """The wallet's same-phone page (the sandbox cashier stands for it). The QR code
        stops working; this screen keeps watching and shows the result on return."""
        payment = await issue("h5", same_phone_button)
        if payment is None:
            return
        qr.visible = tester.visible = False
        qr.update()
        tester.update()
        code["deadline"] = time.monotonic() + payment["expires_in"]
        status.tone(False)
        status.show("已打开支付页面。付款后请回到本应用，缴费结果会自动显示。")
        await ft.UrlLauncher().launch_url(payment["code_url"])

    async def save_qr(_e: Any) -> None:
        if code.get("png"):
            await picker.save_file(file_name="缴费二维码.png", src_bytes=code["png"])

    # Testers on a desktop cannot scan their own screen: the sandbox cashier opens here.
    tester = link_button("pay-open-cashier", "测试环境：在浏览器中打开收银台", open_cashier)
    tester.visible = False
    refresh_button = primary_button(ids.PAY_REFRESH, "重新获取二维码", new_code)
    refresh_button.visible = False
    query_button = semantic(
        ids.PAY_QUERY,
        ft.OutlinedButton(content=ft.Text("查询缴费结果", size=16), on_click=query, height=48),
    )
    countdown_box = semantic(ids.PAY_COUNTDOWN, countdown)
    how_box = semantic(ids.PAY_HOW, how, visible=False)
    same_phone_button = primary_button(ids.PAY_SAME_PHONE, "去支付宝/微信支付(本机付款)", pay_here)
    same_phone = ft.Column(
        [
            same_phone_button,
            semantic(
                ids.PAY_SAVE_QR,
                ft.OutlinedButton(
                    content=ft.Text("保存二维码图片", size=16), on_click=save_qr, height=48
                ),
            ),
        ],
        spacing=10,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        visible=False,
    )
    documents = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    view = screen(
        ROUTE,
        "缴费",
        [
            step_indicator(7, 8, "缴费"),
            semantic(ids.PAY_SUMMARY, summary),
            how_box,
            qr,
            countdown_box,
            same_phone,
            tester,
            refresh_button,
            status.control,
            error.control,
            query_button,
            documents,
            link_button("pay-to-orders", "查看我的订单", go(navigate, "/orders")),
        ],
    )
    view.services = [picker]
    view.data = load
    return view
