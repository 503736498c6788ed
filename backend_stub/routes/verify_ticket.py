"""准考证核验: the page a door checker's phone opens from the ticket's QR code."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from backend_stub import tickets
from backend_stub.deps import SessionDep
from backend_stub.models import Order

router = APIRouter(tags=["tickets"], include_in_schema=False)

LABELS = (
    ("name", "姓名"),
    ("id", "身份证号"),
    ("ticket", "准考证号"),
    ("session", "考试"),
    ("site", "考点"),
    ("room", "考场号"),
    ("seat", "座位号"),
)


def _page(title: str, body: str, ok: bool) -> HTMLResponse:
    colour = "#2e7d32" if ok else "#c62828"
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:460px;margin:0 auto;padding:20px;color:#222}"
        f"h2{{color:{colour}}}td{{padding:6px 8px;border-bottom:1px solid #ddd}}"
        "td:first-child{color:#666;white-space:nowrap}table{border-collapse:collapse;width:100%}"
        ".note{color:#666;font-size:13px}</style></head>"
        f"<body><h2 id='verdict'>{html.escape(title)}</h2>{body}</body></html>",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/verify/ticket", response_class=HTMLResponse)
def verify_ticket(request: Request, session: SessionDep, c: str = "") -> HTMLResponse:
    """Check a 准考证's QR code: signed by the office, and its order still paid."""
    checked = tickets.check(request.app.state.settings.DATA_DIR, c)
    if not checked.valid:
        return _page("准考证无效", f"<p id='reason'>{html.escape(checked.reason)}</p>", False)
    stated = checked.facts
    status = session.scalar(select(Order.status).where(Order.out_trade_no == stated["order"]))
    if status != "paid":
        return _page(
            "准考证已失效",
            "<p id='reason'>该准考证对应的报考订单已不是已缴费状态，请联系考点负责人。</p>",
            False,
        )
    rows = "".join(
        f"<tr><td>{label}</td><td id='{key}'>{html.escape(str(stated.get(key, '')))}</td></tr>"
        for key, label in LABELS
    )
    return _page(
        "准考证有效",
        f"<table>{rows}</table><p class='note'>请核对考生本人及其居民身份证原件。</p>",
        True,
    )
