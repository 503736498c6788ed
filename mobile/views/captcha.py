"""图形验证码: a row the server's refusal opens (a risky login or many SMS codes from one
phone); hidden for the candidates who never need it."""

from __future__ import annotations

import flet as ft

from mobile import ids
from mobile.services.api import ApiClient, ApiError
from mobile.views.common import semantic

# Refusals that ask for a (new) captcha.
ASKS = ("captcha_required", "captcha_wrong")


class CaptchaRow:
    """The picture, the answer field and 换一张. `answer()` gives the fields for the next
    request; a refusal passed to `after_refusal` brings a fresh picture when needed."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.token: str | None = None
        self.image = ft.Image(src=b"", width=160, height=60, fit=ft.BoxFit.FILL)
        self.field = ft.TextField(
            label="图形验证码",
            max_length=4,
            counter="",
            capitalization=ft.TextCapitalization.CHARACTERS,
            text_size=17,
            autocorrect=False,
            enable_suggestions=False,
        )
        refresh = ft.TextButton(content=ft.Text("换一张", size=15), on_click=self._reload)
        self.control = semantic(
            ids.CAPTCHA,
            ft.Row(
                [
                    ft.Container(semantic(ids.CAPTCHA_ANSWER, self.field), expand=True),
                    semantic(ids.CAPTCHA_IMAGE, self.image, label="图形验证码图片"),
                    semantic(ids.CAPTCHA_REFRESH, refresh),
                ],
                vertical_alignment=ft.CrossAxisAlignment.START,
            ),
            visible=False,
        )

    def answer(self) -> dict[str, str] | None:
        """The captcha fields for the next request (each picture is answered once)."""
        if self.token is None:
            return None
        fields = {"captcha_id": self.token, "captcha_answer": (self.field.value or "").strip()}
        self.token = None
        return fields

    async def after_refusal(self, error: ApiError) -> None:
        """Show a fresh picture when the server asks for one, or when the one shown was
        just spent on a request that failed."""
        if error.code in ASKS or self.control.visible:
            await self._load()

    async def _reload(self, _e: ft.Event[ft.TextButton]) -> None:
        await self._load()

    async def _load(self) -> None:
        try:
            self.token, png = await self.api.captcha()
        except ApiError:
            return  # the form's banner already says what went wrong
        self.image.src = png
        self.field.value = ""
        self.control.visible = True
        self.control.update()
