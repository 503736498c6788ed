"""The PDFs of a paid order: 报考回执单 and 准考证 (A4, CJK font embedded as a subset).

Both are drawn from the receipt frozen when the order was paid, so a later change to the
plan or the profile cannot change a document already issued.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from backend_stub.catalog import SLOT_TEXT
from backend_stub.tickets import room_and_seat
from rules import beijing
from rules.display import amount, masked_id

# WenQuanYi Micro Hei: CJK and Latin in one TrueType font (Debian's fonts-wqy-microhei,
# which the setup installs). The app's Droid Sans Fallback has no Latin digits.
FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "cjk"


def yuan(fen: int) -> str:
    """Money as printed: `90.00 元`."""
    return f"{amount(fen)} 元"


def _font_file() -> Path:
    if not FONT_FILE.exists():
        raise FileNotFoundError(f"CJK font missing at {FONT_FILE}: run the setup (./dev)")
    return FONT_FILE


def _document(title: str) -> Any:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("自学考试报名系统")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(FONT, fname=str(_font_file()), collection_font_number=0)
    pdf.add_page()
    pdf.set_font(FONT, size=20)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    return pdf


def _rows(pdf: Any, rows: list[tuple[str, str]], *, label_width: float = 32) -> None:
    pdf.set_font(FONT, size=12)
    for label, value in rows:
        pdf.cell(label_width, 9, label, border=1)
        pdf.multi_cell(0, 9, value, border=1, new_x="LMARGIN", new_y="NEXT")


def _courses(pdf: Any, items: list[dict[str, Any]], *, with_fee: bool) -> None:
    pdf.ln(4)
    pdf.set_font(FONT, size=12)
    widths = (24, 70, 30, 36, 30) if with_fee else (24, 80, 36, 50)
    heads = ["课程代码", "课程名称", "考试日期", "考试时间"] + (["报考费"] if with_fee else [])
    for width, head in zip(widths, heads, strict=False):
        pdf.cell(width, 9, head, border=1, align="C")
    pdf.ln()
    for item in items:
        slot = item.get("slot")
        cells = [
            item["code"] if item.get("exam_date") else "",
            item["name"],
            item.get("exam_date") or "",
            SLOT_TEXT[slot][3:] if slot else "",
        ]
        if not item.get("exam_date") and not with_fee:
            continue
        if with_fee:
            cells.append(yuan(int(item["fee_fen"])))
        for width, cell in zip(widths, cells, strict=False):
            pdf.cell(width, 9, cell, border=1, align="C")
        pdf.ln()


def receipt_pdf(receipt: dict[str, Any]) -> bytes:
    """报考回执单: who registered for what, and what was paid."""
    pdf = _document(f"{receipt['session']}高等教育自学考试报考回执单")
    _rows(
        pdf,
        [
            ("姓名", receipt["name"]),
            ("身份证号", masked_id(receipt["id_number"])),
            ("准考证号", receipt["ticket_number"]),
            ("报考专业", receipt["major"]),
            ("考点", f"{receipt['site']['name']}（{receipt['county']}）"),
            ("订单号", receipt["out_trade_no"]),
            ("支付流水号", receipt["transaction_id"] or ""),
            (
                "缴费时间",
                beijing.seconds(receipt["paid_at"]) + "（北京时间）" if receipt["paid_at"] else "",
            ),
        ],
    )
    _courses(pdf, receipt["items"], with_fee=True)
    pdf.set_font(FONT, size=14)
    pdf.cell(0, 12, f"合计：{yuan(int(receipt['total_fen']))}（已缴费）", align="R")
    pdf.ln(14)
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(
        0, 6, "本回执单由系统生成，请妥善保存。报考信息如有疑问，请联系报名所在地考试机构。"
    )
    return bytes(pdf.output())


def _qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def ticket_pdf(
    receipt: dict[str, Any], photo: bytes | None, *, verify_url: str, issuer: str
) -> bytes:
    """准考证: photo, identity, site, exam room and seat, the timetable of the courses
    taken, the issuing office, and the signed QR code checked at the door."""
    pdf = _document(f"{receipt['session']}高等教育自学考试准考证")
    top = pdf.get_y() + 2
    if photo:
        pdf.image(io.BytesIO(photo), x=160, y=top, w=30, h=40)
    pdf.set_y(top)
    pdf.set_font(FONT, size=12)
    for label, value in (
        ("姓名", receipt["name"]),
        ("身份证号", masked_id(receipt["id_number"])),
        ("准考证号", receipt["ticket_number"]),
        ("报考专业", receipt["major"]),
    ):
        pdf.cell(32, 10, label, border=1)
        pdf.cell(110, 10, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 42))
    room, seat = room_and_seat(int(receipt["seat_number"]))
    _rows(
        pdf,
        [
            ("考点", receipt["site"]["name"]),
            ("考点地址", receipt["site"]["address"]),
            ("考场号", f"第{room:03d}考场"),
            ("座位号", f"{seat:02d}"),
        ],
    )
    _courses(pdf, receipt["items"], with_fee=False)
    pdf.ln(6)
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 8, "考生须知", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(
        0,
        6,
        "1. 考生须凭本准考证和有效居民身份证原件参加考试，二者缺一不得入场。\n"
        "2. 开考前20分钟入场，开考15分钟后不得入场。\n"
        "3. 严禁携带手机等电子设备进入考场。\n"
        "4. 考生须按准考证上的考点、考场号和座位号就座。\n"
        "5. 入场时监考人员扫描右侧二维码核验准考证真伪。",
    )
    pdf.ln(4)
    qr_top = pdf.get_y()
    pdf.image(io.BytesIO(_qr_png(verify_url)), x=154, y=qr_top, w=36, h=36)
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 8, f"签发机构：{issuer}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, "扫码核验：考试机构签名，涂改无效", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
