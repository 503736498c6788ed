"""Payment notifications from the provider, and the sandbox provider's cashier page (what
a phone opens when it scans the QR code)."""

from __future__ import annotations

import html
import logging
from typing import Annotated

import httpx
from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from backend_stub import guards
from backend_stub.config import Settings
from backend_stub.deps import PaymentsDep, SessionDep, SettingsDep
from backend_stub.domain import settlement
from backend_stub.payments import NotificationRejected, SandboxProvider
from rules.display import yuan

log = logging.getLogger("zikao.payments")

router = APIRouter(tags=["payments"])


@router.post("/api/payments/notify/{provider}", response_class=JSONResponse)
async def receive_notification(
    provider: str,
    request: Request,
    session: SessionDep,
    payments: PaymentsDep,
    settings: SettingsDep,
) -> JSONResponse:
    """The provider's asynchronous notification: verified, applied once, logged. The body
    is size-limited while it is read (middleware.BodyLimit)."""
    if provider != payments.name:
        return JSONResponse({"code": "FAIL", "message": "unknown provider"}, status_code=404)
    body = await request.body()
    # Database work off the event loop: a busy database must not stall other requests.
    return await run_in_threadpool(_apply, session, payments, settings, dict(request.headers), body)


def _apply(
    session: SessionDep,
    payments: PaymentsDep,
    settings: Settings,
    headers: dict[str, str],
    body: bytes,
) -> JSONResponse:
    try:
        notice = payments.verify_notification(headers, body)
    except NotificationRejected as exc:
        # Recorded up to a rate: junk from anyone cannot fill the table.
        if (
            guards.hit(session, "notify:rejected", window_s=60)
            <= settings.NOTIFY_REJECTED_RECORDED_PER_MINUTE
        ):
            settlement.reject_notification(session, payments.name, exc.reason)
        return JSONResponse({"code": "FAIL", "message": exc.reason}, status_code=401)
    outcome = settlement.apply_notification(session, payments.name, notice)
    return JSONResponse({"code": "SUCCESS", "outcome": outcome})


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:420px;margin:0 auto;padding:24px;color:#222}"
        ".amount{font-size:36px;font-weight:bold;margin:12px 0}"
        "button,.button{display:block;box-sizing:border-box;text-align:center;"
        "text-decoration:none;width:100%;font-size:18px;padding:12px;margin-top:12px;"
        "border-radius:8px;border:0}.pay{background:#1aad19;color:#fff}"
        ".decline{background:#eee}"
        ".note{color:#888;font-size:13px}</style></head><body>"
        f"<p class='note'>支付沙箱（测试环境，不会真实扣款）</p>{body}</body></html>",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _sandbox(payments: PaymentsDep) -> SandboxProvider:
    assert isinstance(payments, SandboxProvider)
    return payments


@router.get("/sandbox/pay/{token}", response_class=HTMLResponse, include_in_schema=False)
def open_cashier(
    token: str, payments: PaymentsDep, settings: SettingsDep, via: str = ""
) -> HTMLResponse:
    """The cashier a scan (or the same-phone button, `via=h5`) opens: payee, item and
    amount, pay or decline. A code opens once, and not after it expired or was closed."""
    trade = _sandbox(payments).scan(token)
    if trade is None:
        return _page(
            "二维码已失效",
            "<h2>二维码已失效</h2><p>该二维码已被扫描、已过期或订单已关闭。"
            "请回到报名应用重新获取支付二维码。</p>",
        )
    return _page(
        "确认付款",
        f"<p>收款方：{html.escape(settings.PAYEE)}</p>"
        f"<p>商品：{html.escape(trade.subject)}</p>"
        f"<div class='amount' id='amount'>{yuan(trade.amount_fen)}</div>"
        f"<form method='post' action='/sandbox/pay/{html.escape(token)}{_via(via)}'>"
        "<button class='pay' name='action' value='pay' id='pay'>确认支付</button>"
        "<button class='decline' name='action' value='decline' id='decline'>取消支付</button>"
        "</form>",
    )


async def _deliver(request: Request, headers: dict[str, str], body: bytes) -> None:
    """Send the signed notification to this backend's notify endpoint, over HTTP as the
    provider would (in-process transport: the sandbox lives inside the service)."""
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        try:
            response = await client.post(
                "/api/payments/notify/sandbox",
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            log.warning("sandbox notification not delivered: %s", type(exc).__name__)
            return
    if response.status_code != 200:
        log.warning("sandbox notification refused: %s", response.status_code)


@router.post("/sandbox/pay/{token}", response_class=HTMLResponse, include_in_schema=False)
def submit_cashier(
    token: str,
    action: Annotated[str, Form()],
    request: Request,
    background: BackgroundTasks,
    payments: PaymentsDep,
    settings: SettingsDep,
    via: str = "",
) -> HTMLResponse:
    """The tester pays or declines; a payment is notified to the backend, signed. A
    same-phone payment then offers the way back to the app."""
    sandbox = _sandbox(payments)
    back = _back_to_app(settings.APP_RETURN_URL) if via == "h5" else ""
    if action != "pay":
        sandbox.decline(token)
        return _page(
            "已取消", f"<h2 id='result'>已取消支付</h2><p>可回到报名应用重新支付。</p>{back}"
        )
    trade = sandbox.pay(token)
    if trade is None:
        return _page(
            "支付失败",
            "<h2 id='result'>支付失败</h2><p>二维码已过期、订单已关闭或已支付，本次未扣款。"
            "请回到报名应用重新获取支付二维码。</p>",
        )
    headers, body = sandbox.notification(trade)
    background.add_task(_deliver, request, headers, body)
    return _page(
        "支付成功",
        f"<h2 id='result'>支付成功</h2><p>已支付 {yuan(trade.amount_fen)}。"
        f"请回到报名应用查看缴费结果。</p>{back}",
    )


def _via(via: str) -> str:
    return "?via=h5" if via == "h5" else ""


def _back_to_app(url: str) -> str:
    """The link back to the app (configured, never taken from the request: no open
    redirect); without one the candidate switches back to the app, which shows the
    result by itself."""
    if not url:
        return "<p class='note'>请切换回报名应用，缴费结果会自动显示。</p>"
    return (
        f"<p><a id='back-to-app' class='button pay' href='{html.escape(url, quote=True)}'>"
        "返回报名应用</a></p>"
    )
