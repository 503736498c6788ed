"""The phone + SMS code rows with the "获取验证码" button and its countdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from mobile import ids
from mobile.services.api import ApiClient, ApiError
from mobile.state import SmsCountdown
from mobile.views.captcha import CaptchaRow
from mobile.views.common import Banner, Form, semantic


def sms_rows(
    form: Form,
    api: ApiClient,
    banner: Banner,
    *,
    purpose: str,
    precheck: Callable[[], dict[str, str]],
    id_number: Callable[[], str | None] = lambda: None,
) -> list[ft.Control]:
    """Phone field, then code field beside the send button."""
    countdown = SmsCountdown()
    captcha = CaptchaRow(api)
    label = ft.Text(countdown.label, size=15)
    button = ft.OutlinedButton(
        content=label,
        height=50,
        width=132,
        style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=8)),
    )

    def refresh() -> bool:
        """Show the countdown; False once the screen is gone."""
        label.value = countdown.label
        button.disabled = not countdown.ready
        try:
            button.update()
        except RuntimeError:  # The candidate left this screen.
            return False
        return True

    async def run_countdown() -> None:
        while not countdown.ready:
            await asyncio.sleep(1)
            countdown.tick()
            if not refresh():
                return

    async def send(_e: ft.Event[ft.OutlinedButton]) -> None:
        banner.clear()
        errors = precheck()
        form.show_errors(errors)
        if errors:
            return
        button.disabled = True
        button.update()
        try:
            wait = await api.send_sms_code(
                form.data.phone.strip(), purpose, id_number=id_number(), captcha=captcha.answer()
            )
        except ApiError as exc:
            await captcha.after_refusal(exc)
            banner.show(exc.message)
            button.disabled = False
            button.update()
            return
        countdown.start(wait)
        refresh()
        asyncio.create_task(run_countdown())

    button.on_click = send
    return [
        form.text("phone", ids.PHONE, "手机号", keyboard=ft.KeyboardType.PHONE, max_length=11),
        ft.Row(
            [
                ft.Container(
                    form.text(
                        "sms_code",
                        ids.SMS_CODE,
                        "短信验证码",
                        keyboard=ft.KeyboardType.NUMBER,
                        max_length=6,
                    ),
                    expand=True,
                ),
                semantic(ids.SEND_SMS, button),
            ],
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
        captcha.control,
    ]
