"""报考 → order → QR code → the cashier (a second page, as a phone camera would open the
code) → 已缴费 → the receipt downloads."""

from __future__ import annotations

import io

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Download
from sqlalchemy import select

from backend_stub.db import Database
from backend_stub.models import Candidate
from backend_stub.storage import MediaStore
from mobile import ids
from tests.backend.factories import add_identity, unique_id_number
from tests.e2e.conftest import Servers
from tests.e2e.flutter import FlutterPage
from tests.e2e.test_accounts import register_by_api

pytestmark = pytest.mark.e2e


def verified_candidate(servers: Servers) -> str:
    """A registered candidate whose ID card, live check and photo are done (those screens
    have their own end-to-end tests)."""
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="mima2026", name="热依拉")
    db = Database(f"sqlite:///{servers.data_dir / 'zikao.db'}")
    photo = io.BytesIO()
    Image.new("RGB", (480, 640), (70, 130, 220)).save(photo, "JPEG", quality=90)
    with db.sessionmaker() as session:
        candidate = session.scalar(select(Candidate).where(Candidate.id_number == id_number))
        key = MediaStore(servers.data_dir / "media").put(
            candidate.id, "photo", photo.getvalue(), suffix=".jpg"
        )
        add_identity(session, [candidate.id], key)
        session.commit()
    db.engine.dispose()
    return id_number


def read_qr(app: FlutterPage) -> str:
    """The link in the QR code on the screen. Flutter paints the image a moment after the
    control appears (longer on a busy machine): look again until it reads, for 15 s.

    OpenCV's ArUco-based detector: the classic `QRCodeDetector` missed 17 of 600 of our
    codes drawn at this size (2 of 600 even at full size), which failed CI; this one read
    all of them."""
    detector = cv2.QRCodeDetectorAruco()
    for _ in range(30):
        png = app.control(ids.PAY_QR).screenshot()
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        text, _points, _ = detector.detectAndDecode(image)
        if text:
            return text
        app.page.wait_for_timeout(500)
    raise AssertionError("no QR code on the screen")


def test_choose_confirm_pay_by_qr_and_download_the_receipt(
    app: FlutterPage, servers: Servers
) -> None:
    id_number = verified_candidate(servers)
    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "mima2026")
    app.click(ids.LOGIN_SUBMIT)
    assert "报考" in app.text(ids.PROFILE_GO_NEXT)
    app.click(ids.PROFILE_GO_NEXT)

    app.wait_for_text(ids.ENROLL_SESSION, "2027年4月")
    app.choose(ids.ENROLL_DISTRICT, "乌鲁木齐市")
    app.choose(ids.ENROLL_SITE, "新疆大学考点(天山区，余400座)")
    app.choose(ids.ENROLL_MAJOR, "080901 计算机科学与技术(本科)")
    # Each tap is answered by the app (the total, the error banner) before the next one, as
    # a candidate would look: the banner closing moves the form up, under a quicker tap.
    app.click(ids.enroll_course("00024"))
    app.wait_for_text(ids.ENROLL_TOTAL, "¥55.00")  # one course and the student card
    app.click(ids.enroll_course("03708"))  # the same half-day as 00024
    app.wait_for_text(ids.ENROLL_TOTAL, "¥90.00")
    app.click(ids.ENROLL_CONFIRM)
    assert "只能选其中一门" in app.text(ids.FORM_ERROR)
    app.click(ids.enroll_course("03708"))
    app.wait_for_text(ids.ENROLL_TOTAL, "¥55.00")
    app.wait_for_hidden(ids.FORM_ERROR)
    app.click(ids.enroll_course("00018"))
    app.wait_for_text(ids.ENROLL_TOTAL, "¥90.00")
    app.screenshot("01-chosen")
    app.click(ids.ENROLL_CONFIRM)

    app.wait_for(ids.PAY_QR)
    assert "¥90.00" in app.text(ids.PAY_SUMMARY)
    assert "内扫码支付" in app.wait_for_text(ids.PAY_COUNTDOWN, "02:")
    code_url = read_qr(app)
    assert code_url.startswith(servers.api_url + "/sandbox/pay/")
    app.screenshot("02-qr")

    cashier = app.page.context.new_page()
    cashier.goto(code_url)
    assert "¥90.00" in cashier.locator("#amount").inner_text()
    cashier.locator("#pay").click()
    assert "支付成功" in cashier.locator("#result").inner_text()
    cashier.close()
    # Scanned once: the same code no longer opens the cashier.
    assert "二维码已失效" in httpx.get(code_url).text

    assert "已缴费" in app.wait_for_text(ids.PAY_STATUS, "已缴费", timeout=20_000)
    app.screenshot("03-paid")
    # The app opens a one-time link in a new tab, which downloads the PDF (Chromium
    # reports the download on the opener or on the short-lived tab).
    downloads: list[Download] = []
    app.page.on("download", lambda d: downloads.append(d))
    app.page.context.on("page", lambda page: page.on("download", lambda d: downloads.append(d)))
    app.click(ids.PAY_RECEIPT)
    for _ in range(100):
        if downloads:
            break
        app.page.wait_for_timeout(100)
    assert downloads, "the receipt did not download"
    assert downloads[0].suggested_filename == "receipt.pdf"
    with open(downloads[0].path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_pay_on_the_same_phone_and_come_back(app: FlutterPage, servers: Servers) -> None:
    """A candidate with one phone: 去支付宝/微信支付 opens the wallet's page (the sandbox
    cashier stands for it), which leads back to the app; the app shows 已缴费."""
    id_number = verified_candidate(servers)
    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "mima2026")
    app.click(ids.LOGIN_SUBMIT)
    app.click(ids.PROFILE_GO_NEXT)
    app.wait_for_text(ids.ENROLL_SESSION, "2027年4月")
    app.choose(ids.ENROLL_DISTRICT, "乌鲁木齐市")
    app.choose(ids.ENROLL_SITE, "新疆大学考点(天山区，余", exact=False)
    app.choose(ids.ENROLL_MAJOR, "080901 计算机科学与技术(本科)")
    app.click(ids.enroll_course("00024"))
    app.wait_for_text(ids.ENROLL_TOTAL, "¥55.00")
    app.click(ids.ENROLL_CONFIRM)

    app.wait_for(ids.PAY_QR)
    how = app.text(ids.PAY_HOW)
    assert "另一部手机" in how and "从相册" in how and "3分钟内有效" in how
    app.screenshot("same-phone-01-choices")
    with app.page.context.expect_page() as opened:
        app.click(ids.PAY_SAME_PHONE)
    cashier = opened.value
    cashier.wait_for_load_state()
    assert "via=h5" in cashier.url
    assert "¥55.00" in cashier.locator("#amount").inner_text()
    cashier.locator("#pay").click()
    assert "支付成功" in cashier.locator("#result").inner_text()
    back = cashier.locator("#back-to-app")
    assert back.get_attribute("href") == f"{servers.app_url}/pay"
    cashier.close()
    assert "已缴费" in app.wait_for_text(ids.PAY_STATUS, "已缴费", timeout=20_000)
    app.wait_for_hidden(ids.PAY_HOW)
    app.screenshot("same-phone-02-paid")
