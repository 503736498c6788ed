"""A phone's web session survives a reload, a dropped connection and a switch to another
app: the candidate continues where they were, and never sees the framework's English
error box (issue 16, item 1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser

from mobile import ids
from tests.e2e.conftest import ARTIFACTS, Servers
from tests.e2e.flutter import FlutterPage
from tests.e2e.test_accounts import register_by_api, unique_id_number
from tests.support.proxy import CuttableProxy, cuttable

pytestmark = pytest.mark.e2e

ENGLISH_CRASH = "Error running app"


@pytest.fixture
def proxy(servers: Servers) -> Iterator[CuttableProxy]:
    with cuttable(urlparse(servers.app_url).port or 80) as proxy:
        yield proxy


def logged_in(browser: Browser, servers: Servers, base_url: str, name: str) -> FlutterPage:
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="right-pass", name="古丽")
    context = browser.new_context(viewport={"width": 412, "height": 860}, device_scale_factor=1)
    app = FlutterPage(context.new_page(), base_url, ARTIFACTS / name)
    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "right-pass")
    app.click(ids.LOGIN_SUBMIT)
    assert app.text(ids.PROFILE_NAME) == "古丽"
    return app


def assert_no_crash(app: FlutterPage) -> None:
    assert ENGLISH_CRASH not in app.page.inner_text("body")
    assert ENGLISH_CRASH not in app.texts()


def test_a_reload_keeps_the_login_and_the_next_tap_works(
    browser: Browser, servers: Servers
) -> None:
    app = logged_in(browser, servers, servers.app_url, "reconnect-reload")
    app.reload()
    assert app.text(ids.PROFILE_NAME) == "古丽"  # still logged in
    app.click(ids.PROFILE_GO_NEXT)  # a request to the backend after the reload
    app.wait_for(ids.IDCARD_TAKE_PHOTO)
    assert_no_crash(app)
    app.screenshot("after-reload")
    app.page.context.close()


def test_a_dropped_connection_reconnects_and_the_journey_goes_on(
    browser: Browser, servers: Servers, proxy: CuttableProxy
) -> None:
    app = logged_in(browser, servers, proxy.url, "reconnect-drop")
    for _ in range(2):  # a blip, then another (the wallet app, the lift)
        proxy.cut()
        time.sleep(1.5)
    app.click(ids.PROFILE_GO_NEXT)
    app.wait_for(ids.IDCARD_TAKE_PHOTO, timeout=60_000)
    assert_no_crash(app)
    # Back to 个人中心: the state (the login) is the same session's.
    app.page.go_back()
    assert app.text(ids.PROFILE_NAME) == "古丽"
    app.screenshot("after-drop")
    app.page.context.close()


def test_a_new_session_on_the_same_device_continues_logged_in(
    browser: Browser, servers: Servers
) -> None:
    """The server's session is gone (the tab reopened, a long time in the wallet app): the
    login kept on the device brings the candidate back where they were, not to 登录."""
    app = logged_in(browser, servers, servers.app_url, "reconnect-new-session")
    app.page.evaluate("sessionStorage.clear()")  # Flet's session id: a new session
    app.reload()
    assert app.text(ids.PROFILE_NAME) == "古丽"
    app.click(ids.LOGOUT)
    app.wait_for(ids.LOGIN_SUBMIT)
    app.page.evaluate("sessionStorage.clear()")
    app.reload()
    app.wait_for(ids.LOGIN_SUBMIT)  # logged out stays logged out
    assert_no_crash(app)
    app.page.context.close()
