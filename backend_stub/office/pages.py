"""The console's pages: the review queue, a candidate's evidence side by side, the
evidence files, and the decisions (each asked for once more). Every view of evidence and
every decision is written to the audit log."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from backend_stub.deps import SessionDep, SettingsDep
from backend_stub.domain import review
from backend_stub.domain.identity import latest_confirmed_card
from backend_stub.domain.liveness import status as liveness_status
from backend_stub.errors import ApiError
from backend_stub.models import (
    Candidate,
    IdCardSubmission,
    LiveAttempt,
    Material,
    Review,
    StandardPhoto,
)
from backend_stub.office.auth import StaffLogin, visible
from backend_stub.office.render import STYLESHEET, page
from backend_stub.reference import EXAM_DISTRICTS
from rules import beijing
from rules.display import masked_id

router = APIRouter(prefix="/office", include_in_schema=False)

STATUS_NAMES = {
    "pending": "待审核",
    "approved": "审核通过",
    "rejected": "审核未通过",
    "unlocked": "已解锁",
}
LIVE_NAMES = {"pass": "通过", "fail": "未通过", "review": "需人工确认"}
CARD_FIELDS = (
    ("name", "姓名"),
    ("sex", "性别"),
    ("ethnicity", "民族"),
    ("birth", "出生"),
    ("address", "住址"),
    ("id_number", "公民身份号码"),
)


@router.get("/static/console.css")
def read_stylesheet() -> Response:
    """The console's stylesheet (no login needed: it holds no data)."""
    return Response(
        STYLESHEET.read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("", response_class=HTMLResponse)
def read_queue(
    login: StaffLogin, session: SessionDep, status: str = "pending", district: str = ""
) -> HTMLResponse:
    """Submissions of the reviewer's districts, oldest first, filtered by status and
    district: one query for the queue and one for its live-check verdicts."""
    staff = login[0]
    districts = list(EXAM_DISTRICTS) if staff.role == "admin" else staff.districts
    chosen = [district] if district in districts else districts
    latest = select(func.max(Review.id).label("id")).group_by(Review.candidate_id).subquery()
    query = (
        select(Review, Candidate)
        .join(latest, latest.c.id == Review.id)
        .join(Candidate, Candidate.id == Review.candidate_id)
        .where(Candidate.exam_district.in_(chosen))
        .order_by(Review.submitted_at)
    )
    if status:
        query = query.where(Review.status == status)
    found = session.execute(query).all()
    verdicts: dict[int, list[str]] = defaultdict(list)
    if found:
        for candidate_id, verdict in session.execute(
            select(LiveAttempt.candidate_id, LiveAttempt.verdict)
            .where(LiveAttempt.candidate_id.in_([c.id for _r, c in found]))
            .order_by(LiveAttempt.id)
        ):
            verdicts[candidate_id].append(LIVE_NAMES.get(verdict, verdict))
    rows = [
        {
            "id": candidate.id,
            "submitted": beijing.minutes(row.submitted_at),
            "name": candidate.name,
            "masked_id": masked_id(candidate.id_number),
            "district": EXAM_DISTRICTS.get(candidate.exam_district, ""),
            "live": "、".join(verdicts[candidate.id]),
            "status": STATUS_NAMES.get(row.status, row.status),
        }
        for row, candidate in found
    ]
    return page(
        "queue.html",
        title="审核队列",
        staff=staff,
        rows=rows,
        statuses=STATUS_NAMES,
        status=status,
        districts=[(d, EXAM_DISTRICTS.get(d, d)) for d in districts],
        district=district,
    )


def media_link(candidate_id: int, kind: str, row_id: int) -> str:
    return f"/office/candidates/{candidate_id}/media/{kind}/{row_id}"


def _card(candidate: Candidate, card: IdCardSubmission | None) -> dict[str, Any] | None:
    """What was read from the card against what the candidate confirmed, with flags."""
    if card is None:
        return None
    read = card.result.get("fields", {})
    confirmed = card.confirmed_fields or {}
    uncertain = card.result.get("uncertain", [])

    def shown(key: str, value: Any) -> str:
        if key == "id_number" and value:
            return masked_id(str(value))
        return str(value or "—")

    rows = []
    for key, label in CARD_FIELDS:
        flags = [] if read.get(key) == confirmed.get(key) else ["考生修改"]
        flags += ["识别不确定"] if key in uncertain else []
        rows.append(
            {
                "label": label,
                "read": shown(key, read.get(key)),
                "confirmed": shown(key, confirmed.get(key)),
                "flags": flags,
            }
        )
    mismatch = "、".join(
        name
        for name, ok in (
            ("姓名", confirmed.get("name") == candidate.name),
            ("身份证号", confirmed.get("id_number") == candidate.id_number),
        )
        if not ok
    )
    return {
        "image": media_link(candidate.id, "card", card.id),
        "portrait": media_link(candidate.id, "portrait", card.id) if card.portrait_key else "",
        "rows": rows,
        "mismatch": mismatch,
        "warnings": [
            w.get("message", "") for w in card.result.get("quality", {}).get("warnings", [])
        ],
    }


def _attempt(candidate_id: int, attempt: LiveAttempt) -> dict[str, Any]:
    m = attempt.measurements or {}
    return {
        "time": beijing.minutes(attempt.created_at),
        "verdict": LIVE_NAMES.get(attempt.verdict, attempt.verdict),
        "face_distance": m.get("face_distance", "—"),
        "mouth_movement": m.get("mouth_movement", "—"),
        "speech": m.get("speech_s", "—"),
        "digits": m.get("digits_heard", "未识别"),
        "reasons": "；".join(r.get("message", "") for r in attempt.reasons) or "—",
        "video": media_link(candidate_id, "video", attempt.id) if attempt.video_key else "",
        "signals": [
            (label, m[key], explanation)
            for key, label, explanation in PASSIVE_SIGNALS
            if m.get(key) is not None
        ],
        "stills": [
            (STILL_NAMES[name], media_link(candidate_id, f"still-{name}", attempt.id))
            for name in STILL_NAMES
            if name in (m.get("stills") or {})
        ],
    }


# The live check's passive signals as the exam office reads them (verification.pad).
PASSIVE_SIGNALS = (
    (
        "deformation",
        "面部立体形变",
        "眼角、眉毛、鼻梁相对一个平面运动的偏离；照片约 0.01，真人说话通常 0.06 以上，低于 0.03 视为平面。",
    ),
    (
        "upper_change",
        "上半脸变化",
        "对齐后眉眼区域的灰度变化；照片约 1–9，真人通常 20 以上，低于 10 视为静止。",
    ),
    (
        "lip_sync",
        "口型同步",
        "音节处张嘴程度高于随机时间的程度（标准差）；真人朗读通常在 0.2 以上，低于 0.1 转人工。",
    ),
    ("repeated_frames", "重复画面比例", "相邻画面完全相同的比例；超过 0.5 转人工。"),
)
STILL_NAMES = {"face": "正脸", "mouth_open": "张嘴", "mouth_closed": "闭嘴"}


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
def read_candidate(
    candidate_id: int, login: StaffLogin, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The evidence side by side, and the decision forms. Every view is audited."""
    staff, staff_login = login
    candidate = visible(session, staff, candidate_id)
    review.audit(session, staff, "view", candidate.id)
    session.commit()
    current = review.latest(session, candidate.id)
    photo = session.scalar(
        select(StandardPhoto)
        .where(StandardPhoto.candidate_id == candidate.id)
        .order_by(StandardPhoto.id.desc())
    )
    attempts = session.scalars(
        select(LiveAttempt).where(LiveAttempt.candidate_id == candidate.id).order_by(LiveAttempt.id)
    ).all()
    materials = session.scalars(
        select(Material).where(Material.candidate_id == candidate.id).order_by(Material.id)
    ).all()
    last_reason = ""
    if current is not None and current.reason_code:
        last_reason = f"{review.REASONS.get(current.reason_code, '')} {current.reason_text}"
    return page(
        "candidate.html",
        title=f"考生资料：{candidate.name}",
        staff=staff,
        candidate=candidate,
        masked_id=masked_id(candidate.id_number),
        district=EXAM_DISTRICTS.get(candidate.exam_district, ""),
        state=STATUS_NAMES.get(current.status, current.status) if current else "未提交",
        last_reason=last_reason,
        card=_card(candidate, latest_confirmed_card(session, candidate.id)),
        photo=None
        if photo is None
        else {
            "image": media_link(candidate.id, "photo", photo.id),
            "verdict": "一致" if photo.face_verdict == "match" else "需人工比对",
            "distance": "—" if photo.face_distance is None else photo.face_distance,
        },
        failures=sum(a.verdict == "fail" for a in attempts),
        attempts=[_attempt(candidate.id, a) for a in attempts],
        signal_legend=[(label, text) for _key, label, text in PASSIVE_SIGNALS],
        materials=[
            {
                "link": media_link(candidate.id, "material", m.id),
                "text": f"{m.major_code} · {'PDF' if m.content_type == 'application/pdf' else '图片'}"
                f" · {m.size // 1024} KB · {beijing.minutes(m.created_at)}",
            }
            for m in materials
        ],
        csrf=staff_login.csrf,
        pending=current is not None and current.status == "pending",
        on_site=liveness_status(session, candidate, settings.LIVE_MAX_FAILURES) == "on_site",
        unlock=current is not None and current.status == "approved" and staff.role == "admin",
        reasons=review.REASONS,
        parts=review.PARTS,
    )


MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".pdf": "application/pdf",
}


@router.get("/candidates/{candidate_id}/media/{kind}/{row_id}")
def read_media(
    candidate_id: int,
    kind: str,
    row_id: int,
    request: Request,
    login: StaffLogin,
    session: SessionDep,
) -> Response:
    """One piece of evidence from the private store (audited)."""
    staff = login[0]
    candidate = visible(session, staff, candidate_id)
    key: str | None = None
    if kind in ("card", "portrait"):
        card = session.get(IdCardSubmission, row_id)
        if card is not None and card.candidate_id == candidate.id:
            key = card.front_key if kind == "card" else card.portrait_key
    elif kind == "photo":
        photo = session.get(StandardPhoto, row_id)
        key = photo.key if photo is not None and photo.candidate_id == candidate.id else None
    elif kind == "material":
        material = session.get(Material, row_id)
        key = (
            material.key if material is not None and material.candidate_id == candidate.id else None
        )
    elif kind == "video" or (kind.startswith("still-") and kind[len("still-") :] in STILL_NAMES):
        attempt = session.get(LiveAttempt, row_id)
        if attempt is not None and attempt.candidate_id == candidate.id:
            stills = (attempt.measurements or {}).get("stills") or {}
            key = attempt.video_key if kind == "video" else stills.get(kind[len("still-") :])
    if not key:
        raise ApiError(404, "not_found", "没有这份材料。")
    review.audit(session, staff, "view_media", candidate.id, f"{kind} {row_id}")
    session.commit()
    try:
        data = request.app.state.media.read(key)
    except (OSError, ValueError):
        raise ApiError(404, "media_missing", "材料文件缺失。") from None
    suffix = "." + key.rsplit(".", 1)[-1] if "." in key else ""
    return Response(
        data,
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        headers={"Cache-Control": "no-store"},
    )
