"""Every screen at the two phone sizes candidates have most (412×860 and 360×740),
saved under test-artifacts/e2e/screens-WxH/ to be looked at; each must come up without
the app's error dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from mobile import ids
from tests.e2e.conftest import ARTIFACTS, Servers
from tests.e2e.flutter import FlutterPage
from tests.e2e.test_payment import verified_candidate

pytestmark = pytest.mark.e2e

# Route → a control that is there once the screen has come up.
PUBLIC = (
    ("/login", ids.LOGIN_SUBMIT),
    ("/register/new", ids.REGISTER_SUBMIT),
    ("/register/enrolled", ids.REGISTER_SUBMIT),
    ("/reset", ids.RESET_SUBMIT),
)
JOURNEY = (
    ("/me", ids.PROFILE_NAME),
    ("/idcard", ids.STEP_INDICATOR),
    ("/liveness", ids.STEP_INDICATOR),
    ("/photo", ids.PHOTO_SPEC),
    ("/enroll", ids.ENROLL_SESSION),
    ("/orders", ids.ORDERS_LIST),
)


def shot(app: FlutterPage, route: str, ready: str) -> None:
    app.open(route)
    app.wait_for(ready)
    app.page.wait_for_timeout(1200)  # the screen's own loading (its effect) settles
    assert app.control(ids.UNEXPECTED_RETRY).count() == 0, app.texts()
    app.screenshot(route.strip("/").replace("/", "-") or "root")


@pytest.mark.parametrize("size", [(412, 860), (360, 740)], ids=["412x860", "360x740"])
def test_every_screen_at_phone_sizes(
    browser: Browser, servers: Servers, size: tuple[int, int]
) -> None:
    width, height = size
    id_number = verified_candidate(servers)
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1
    )
    app = FlutterPage(context.new_page(), servers.app_url, ARTIFACTS / f"screens-{width}x{height}")
    try:
        for route, ready in PUBLIC:
            shot(app, route, ready)
        app.open("/login")
        app.fill(ids.LOGIN_ACCOUNT, id_number)
        app.fill(ids.LOGIN_PASSWORD, "mima2026")
        app.click(ids.LOGIN_SUBMIT)
        app.wait_for(ids.PROFILE_NAME)
        for route, ready in JOURNEY:
            shot(app, route, ready)
        # 报考 → the order's 缴费 screen.
        app.open("/enroll")
        app.wait_for_text(ids.ENROLL_SESSION, "2027年4月")
        # 考区 starts at the 报名地州 the candidate registered with (喀什地区): its sites
        # are the ones offered.
        app.click(ids.ENROLL_SITE)
        kashgar = app.page.get_by_role("button", name="喀什大学考点", exact=False).last
        kashgar.wait_for(state="visible", timeout=10_000)
        app.page.keyboard.press("Escape")
        app.choose(ids.ENROLL_DISTRICT, "乌鲁木齐市")
        app.choose(ids.ENROLL_SITE, "新疆大学考点(天山区，余", exact=False)
        app.choose(ids.ENROLL_MAJOR, "080901 计算机科学与技术(本科)")
        app.click(ids.enroll_course("00024"))
        app.wait_for_text(ids.ENROLL_TOTAL, "¥55.00")
        app.screenshot("enroll-chosen")
        app.click(ids.ENROLL_CONFIRM)
        app.wait_for(ids.PAY_QR)
        app.page.wait_for_timeout(1200)
        app.screenshot("pay")
        shot(app, "/orders", ids.ORDERS_LIST)
        deadline = app.page.locator('[flt-semantics-identifier$="-deadline"]').first
        assert "(北京时间)前缴费" in deadline.inner_text()
    finally:
        context.close()
