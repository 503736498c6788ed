"""The app: theme with the shipped CJK font, the router, one state per session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import flet as ft

from mobile import ids
from mobile.services.api import ApiError
from mobile.state import AppState
from mobile.views import (
    enroll,
    idcard,
    liveness,
    login,
    orders,
    pay,
    photo,
    profile,
    register_enrolled,
    register_new,
    reset_password,
)
from mobile.views.common import Banner, Navigate, primary_button, screen, semantic

log = logging.getLogger("zikao.app")

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
FONT_FILE = "fonts/DroidSansFallbackFull.ttf"
FONT_FAMILY = "ZikaoCJK"

Builder = Callable[[AppState, Navigate], ft.View]

# Routes declared once: path -> (screen builder, needs login, needs form choices).
ROUTES: dict[str, tuple[Builder, bool, bool]] = {
    login.ROUTE: (login.build, False, False),
    register_new.ROUTE: (register_new.build, False, True),
    register_enrolled.ROUTE: (register_enrolled.build, False, False),
    reset_password.ROUTE: (reset_password.build, False, False),
    profile.ROUTE: (profile.build, True, False),
    idcard.ROUTE: (idcard.build, True, False),
    liveness.ROUTE: (liveness.build, True, False),
    photo.ROUTE: (photo.build, True, False),
    enroll.ROUTE: (enroll.build, True, False),
    orders.ROUTE: (orders.build, True, False),
    pay.ROUTE: (pay.build, True, False),
}


def apply_theme(page: ft.Page) -> None:
    page.title = "自学考试报名"
    if (ASSETS_DIR / FONT_FILE).exists():
        page.fonts = {FONT_FAMILY: FONT_FILE}
        font = FONT_FAMILY
    else:
        log.warning("CJK font missing at assets/%s: run the setup to install it", FONT_FILE)
        font = None
    page.theme = ft.Theme(
        color_scheme_seed=ft.Colors.BLUE_800, font_family=font, use_material3=True
    )
    page.theme_mode = ft.ThemeMode.LIGHT


# What the device keeps between sessions (browser storage in web mode, the app's private
# preferences on a phone): the login and the order being paid.
TOKEN_KEY = "zikao.token"
ORDER_KEY = "zikao.order"


class Kept:
    """The login and the order being paid, kept on the device: a web session the server
    no longer has (a tab reopened, a long switch to the wallet app) or a restarted phone
    app continues where the candidate was, instead of at 登录."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.prefs = ft.SharedPreferences()
        self.saved: dict[str, object] = {TOKEN_KEY: None, ORDER_KEY: None}

    async def restore(self) -> None:
        try:
            token = await self.prefs.get(TOKEN_KEY)
            order = await self.prefs.get(ORDER_KEY)
        except Exception as exc:  # storage unavailable (private mode): start afresh
            log.warning("device storage unavailable: %s", type(exc).__name__)
            return
        if not isinstance(token, str) or not token:
            return
        self.saved = {TOKEN_KEY: token, ORDER_KEY: order}
        self.state.api.token = token
        try:
            self.state.candidate = await self.state.api.me()
        except ApiError:  # expired or revoked (the router forgets it), or offline
            self.state.candidate = None
            return
        if isinstance(order, int):
            self.state.order_id = order

    async def remember(self) -> None:
        """Store what changed since the last call (nothing is written when nothing did)."""
        wanted = {TOKEN_KEY: self.state.api.token, ORDER_KEY: self.state.order_id}
        for key, value in wanted.items():
            if value == self.saved.get(key):
                continue
            self.saved[key] = value
            try:
                if value is None:
                    await self.prefs.remove(key)
                else:
                    await self.prefs.set(key, value)
            except Exception as exc:
                log.warning("device storage unavailable: %s", type(exc).__name__)


async def main(page: ft.Page) -> None:
    apply_theme(page)
    state = AppState()
    kept = Kept(state)
    shown = 0  # how many screens were asked for: only the latest one is put on the page

    async def navigate(route: str) -> None:
        if route == state.route:  # the browser sees no change: rebuild the screen here
            await show(route)
        else:
            await page.push_route(route)

    def unavailable(route: str, message: str) -> ft.View:
        banner = Banner("load-error", message=message)

        async def retry(*_args: object) -> None:
            await show(route)

        return screen(
            route, "自学考试报名", [banner.control, primary_button("retry", "重试", retry)]
        )

    async def show(route: str) -> None:
        nonlocal shown
        shown += 1
        ticket = shown
        if route not in ROUTES:
            route = profile.ROUTE if state.logged_in else login.ROUTE
        builder, needs_login, needs_choices = ROUTES[route]
        if needs_login and not state.logged_in:
            route, (builder, _, needs_choices) = login.ROUTE, ROUTES[login.ROUTE]
        try:
            if needs_choices and state.reference is None:
                state.reference = await state.api.reference()
            if needs_login:
                state.candidate = await state.api.me()
            view = builder(state, navigate)
        except ApiError as exc:
            if exc.status == 401:
                state.candidate = None
                state.api.token = None
                state.order_id = None
                state.notice = exc.message
                await kept.remember()
                await navigate(login.ROUTE)
                return
            view = unavailable(route, exc.message)
        if ticket != shown:
            return  # a later tap asked for another screen while this one loaded
        # Registration screens sit on top of 登录 and journey screens on top of 个人中心,
        # so the app bar offers the way back.
        if route in (login.ROUTE, profile.ROUTE):
            below = []
        elif needs_login:
            below = [profile.build(state, navigate)]
        else:
            below = [login.build(state, navigate)]
        page.views.clear()
        page.views.extend([*below, view])
        state.route = route
        page.update()
        await kept.remember()
        if callable(view.data):
            await view.data()  # the screen's effect, now that it is on the page

    async def on_route_change(e: ft.RouteChangeEvent) -> None:
        await show(e.route)

    async def on_view_pop(_e: ft.ViewPopEvent) -> None:
        await navigate(profile.ROUTE if state.logged_in else login.ROUTE)

    async def on_close(_e: ft.Event[ft.Page]) -> None:
        # The session has expired (not merely disconnected: a reload, a network blip or
        # a switch to the wallet app reconnects to this same session and its state).
        await state.api.aclose()

    async def recover() -> None:
        await show(state.route or page.route)

    def unexpected(message: str) -> None:
        """Instead of the framework's English "session crashed" box: a Chinese message
        with 重试, which shows the current screen again (its state is kept)."""
        log.error("unexpected error in a handler: %s", message.splitlines()[0][:200])

        async def retry(_e: ft.Event[ft.TextButton]) -> None:
            page.pop_dialog()
            await recover()

        page.show_dialog(
            ft.AlertDialog(
                modal=True,
                title=ft.Text("操作没有完成"),
                content=ft.Text("出现了意外问题，请点“重试”继续。"),
                actions=[
                    semantic(
                        ids.UNEXPECTED_RETRY,
                        ft.TextButton(content=ft.Text("重试", size=16), on_click=retry),
                    )
                ],
            )
        )

    # The framework reports an exception escaping any handler through its session;
    # this is the one place every such error passes.
    page.session.error = unexpected  # type: ignore[method-assign]
    page.on_route_change = on_route_change
    page.on_view_pop = on_view_pop
    page.on_close = on_close
    await kept.restore()
    await show(page.route)
