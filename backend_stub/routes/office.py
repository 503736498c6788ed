"""The exam office's review console: server-rendered pages for a reviewer at a desk.

Why pages from the backend rather than a Flet view: a reviewer works on a large screen
with the evidence side by side and keyboard shortcuts of an ordinary browser; nothing is
installed at the office; and the evidence (ID photos, videos) goes straight from the
private store to the authenticated page, with every view written to the audit log.
"""

from __future__ import annotations

import html
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend_stub import guards, review
from backend_stub.abuse import PublicRequest
from backend_stub.db import utcnow
from backend_stub.deps import SecretDep, SessionDep, SettingsDep
from backend_stub.domain.identity import latest_confirmed_card
from backend_stub.errors import ApiError
from backend_stub.models import (
    AuditEntry,
    Candidate,
    IdCardSubmission,
    LiveAttempt,
    LiveChallenge,
    Material,
    Review,
    Staff,
    StaffSession,
    StandardPhoto,
)
from backend_stub.reference import EXAM_DISTRICTS
from backend_stub.routes.liveness import status as liveness_status
from backend_stub.security import dummy_hash, keyed_digest, token_digest, verify_password
from rules import beijing
from rules.display import masked_id

router = APIRouter(prefix="/office", include_in_schema=False)

COOKIE = "zikao_office"
SESSION_HOURS = 10
STATUS_NAMES = {
    "pending": "待审核",
    "approved": "审核通过",
    "rejected": "审核未通过",
    "unlocked": "已解锁",
}
LIVE_NAMES = {"pass": "通过", "fail": "未通过", "review": "需人工确认"}


STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "console.css"


def _page(title: str, body: str, staff: Staff | None = None) -> HTMLResponse:
    bar = "<header><a href='/office'>自考报名审核</a>"
    if staff is not None:
        bar += (
            f"<a href='/office'>审核队列</a><span class='who'>{html.escape(staff.name)}"
            f"（{'管理员' if staff.role == 'admin' else '审核员'}）</span>"
            "<form method='post' action='/office/logout'><button>退出</button></form>"
        )
    bar += "</header>"
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)} - 自考报名审核</title>"
        "<link rel='stylesheet' href='/office/static/console.css'></head>"
        f"<body>{bar}<main><h2>{html.escape(title)}</h2>{body}</main></body></html>",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/static/console.css")
def read_stylesheet() -> Response:
    """The console's stylesheet (no login needed: it holds no data)."""
    return Response(
        STYLESHEET.read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


class LoginRequired(Exception):
    """No valid console login: the page redirects to the login form."""


def _login(request: Request, session: SessionDep) -> tuple[Staff, StaffSession]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired
    login = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
    )
    if login is None or login.revoked_at is not None or login.expires_at <= utcnow():
        raise LoginRequired
    staff = session.get(Staff, login.staff_id)
    if staff is None:
        raise LoginRequired
    return staff, login


StaffLogin = Annotated[tuple[Staff, StaffSession], Depends(_login)]


def _check_csrf(login: StaffSession, csrf: str) -> None:
    if not secrets.compare_digest(login.csrf, csrf):
        raise ApiError(403, "csrf", "页面已过期，请刷新后重试。")


def _visible(session: SessionDep, staff: Staff, candidate_id: int) -> Candidate:
    """The candidate, if this staff member may see them (admins: all; reviewers: their
    districts). Anything else is not found — and recorded."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or (
        staff.role != "admin" and candidate.exam_district not in staff.districts
    ):
        review.audit(session, staff, "denied", None, f"candidate {candidate_id}")
        session.commit()
        raise ApiError(404, "not_found", "没有这位考生，或不在您负责的地区。")
    return candidate


LOGIN_ERRORS = {
    "1": "用户名或密码错误。",
    "locked": "登录失败次数过多，请15分钟后再试。",
}


@router.get("/login", response_class=HTMLResponse)
def login_form(error: str = "") -> HTMLResponse:
    """The console's login form."""
    message = f"<p class='flag'>{LOGIN_ERRORS[error]}</p>" if error in LOGIN_ERRORS else ""
    return _page(
        "考试机构登录",
        f"{message}<form method='post' action='/office/login'>"
        "<p><label>用户名 <input name='username' id='username' autocomplete='username'></label></p>"
        "<p><label>密码 <input name='password' id='password' type='password' "
        "autocomplete='current-password'></label></p><button id='login'>登录</button></form>",
    )


@router.post("/login")
def log_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> Response:
    """Check the password; the login lives in an HttpOnly, same-site cookie (Secure over
    HTTPS). Lock-out per username, known or not, and the same time either way."""
    name = username.strip()
    staff = session.scalar(select(Staff).where(Staff.username == name))
    key = f"s:{staff.id}" if staff else "sn:" + keyed_digest(secret, "staff", name)[:64]
    guard = guards.LoginGuards(
        max_failures=settings.LOGIN_MAX_FAILURES, lock_seconds=settings.LOGIN_LOCK_SECONDS
    )
    if guard.reserve(session, key) is not None:
        return RedirectResponse("/office/login?error=locked", status_code=303)
    stored = staff.password_hash if staff is not None else dummy_hash()
    if not verify_password(stored, password) or staff is None:
        locked = guard.failed(session, key).locked_for
        return RedirectResponse(
            f"/office/login?error={'locked' if locked else '1'}", status_code=303
        )
    guard.succeeded(session, key)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_digest(token),
            csrf=secrets.token_urlsafe(24),
            staff_id=staff.id,
            expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
        )
    )
    review.audit(session, staff, "login", None)
    session.commit()
    response = RedirectResponse("/office", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=SESSION_HOURS * 3600,
        secure=request.url.scheme == "https" or settings.ENVIRONMENT == "production",
    )
    return response


@router.post("/logout")
def log_out(login: StaffLogin, session: SessionDep) -> Response:
    """End the console login."""
    login[1].revoked_at = utcnow()
    session.commit()
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("", response_class=HTMLResponse)
def read_queue(
    login: StaffLogin, session: SessionDep, status: str = "pending", district: str = ""
) -> HTMLResponse:
    """Submissions of the reviewer's districts, oldest first, filtered by status and
    district."""
    staff = login[0]
    districts = list(EXAM_DISTRICTS) if staff.role == "admin" else staff.districts
    chosen = [district] if district in districts else districts
    latest = {}
    for row in session.scalars(select(Review).order_by(Review.id)):
        latest[row.candidate_id] = row
    rows = []
    for row in sorted(latest.values(), key=lambda r: r.submitted_at):
        if status and row.status != status:
            continue
        candidate = session.get(Candidate, row.candidate_id)
        if candidate is None or candidate.exam_district not in chosen:
            continue
        live = session.scalars(
            select(LiveAttempt.verdict).where(LiveAttempt.candidate_id == candidate.id)
        ).all()
        rows.append(
            f"<tr><td>{beijing.minutes(row.submitted_at)}</td>"
            f"<td><a href='/office/candidates/{candidate.id}' class='candidate'>"
            f"{html.escape(candidate.name)}</a></td><td>{masked_id(candidate.id_number)}</td>"
            f"<td>{html.escape(EXAM_DISTRICTS.get(candidate.exam_district, ''))}</td>"
            f"<td>{'、'.join(LIVE_NAMES.get(v, v) for v in live) or '—'}</td>"
            f"<td>{STATUS_NAMES.get(row.status, row.status)}</td></tr>"
        )
    district_options = "".join(
        f"<option value='{d}' {'selected' if d == district else ''}>"
        f"{html.escape(EXAM_DISTRICTS.get(d, d))}</option>"
        for d in districts
    )
    status_options = "".join(
        f"<option value='{k}' {'selected' if k == status else ''}>{v}</option>"
        for k, v in STATUS_NAMES.items()
    )
    body = (
        "<form method='get'><label>状态 <select name='status'>"
        f"{status_options}</select></label> <label>地区 <select name='district'>"
        f"<option value=''>全部负责地区</option>{district_options}</select></label> "
        "<button>筛选</button></form><br>"
        "<table id='queue'><tr><th>提交时间</th><th>姓名</th><th>身份证号</th><th>报名地州</th>"
        f"<th>人脸识别</th><th>状态</th></tr>{''.join(rows)}</table>"
        + ("" if rows else "<p id='empty'>没有符合条件的考生。</p>")
    )
    return _page("审核队列", body, staff)


def _media_link(candidate_id: int, kind: str, row_id: int) -> str:
    return f"/office/candidates/{candidate_id}/media/{kind}/{row_id}"


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
def read_candidate(
    candidate_id: int, login: StaffLogin, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The evidence side by side, and the decision forms. Every view is audited."""
    staff, staff_login = login
    candidate = _visible(session, staff, candidate_id)
    review.audit(session, staff, "view", candidate.id)
    session.commit()
    current = review.latest(session, candidate.id)
    card = latest_confirmed_card(session, candidate.id)
    photo = session.scalar(
        select(StandardPhoto)
        .where(StandardPhoto.candidate_id == candidate.id)
        .order_by(StandardPhoto.id.desc())
    )
    attempts = session.scalars(
        select(LiveAttempt).where(LiveAttempt.candidate_id == candidate.id).order_by(LiveAttempt.id)
    ).all()

    card_html = "<p class='flag'>未完成身份证识别。</p>"
    if card is not None:
        read = card.result.get("fields", {})
        confirmed = card.confirmed_fields or {}
        rows = []
        for key, label in (
            ("name", "姓名"),
            ("sex", "性别"),
            ("ethnicity", "民族"),
            ("birth", "出生"),
            ("address", "住址"),
            ("id_number", "公民身份号码"),
        ):
            ocr, final = read.get(key), confirmed.get(key)
            flag = "" if ocr == final else "<span class='flag'>考生修改</span>"
            if key in card.result.get("uncertain", []):
                flag += " <span class='flag'>识别不确定</span>"
            shown_ocr = masked_id(ocr) if key == "id_number" and ocr else ocr
            shown = masked_id(final) if key == "id_number" and final else final
            rows.append(
                f"<tr><td>{label}</td><td>{html.escape(str(shown_ocr or '—'))}</td>"
                f"<td>{html.escape(str(shown or '—'))}</td><td>{flag}</td></tr>"
            )
        matches = "、".join(
            k
            for k, ok in (
                ("姓名", confirmed.get("name") == candidate.name),
                ("身份证号", confirmed.get("id_number") == candidate.id_number),
            )
            if not ok
        )
        warnings = "".join(
            f"<li class='flag'>{html.escape(w.get('message', ''))}</li>"
            for w in card.result.get("quality", {}).get("warnings", [])
        )
        card_html = (
            f"<img src='{_media_link(candidate.id, 'card', card.id)}' alt='身份证人像面'>"
            + (
                f"<p><img src='{_media_link(candidate.id, 'portrait', card.id)}' alt='人像' "
                "style='width:120px'></p>"
                if card.portrait_key
                else ""
            )
            + "<table><tr><th>项目</th><th>识别结果</th><th>考生确认</th><th>标记</th></tr>"
            + "".join(rows)
            + "</table>"
            + (f"<p class='flag'>与注册信息不一致：{matches}</p>" if matches else "")
            + (f"<ul>{warnings}</ul>" if warnings else "")
        )
    photo_html = "<p class='flag'>未提交证件照。</p>"
    if photo is not None:
        verdict = "一致" if photo.face_verdict == "match" else "需人工比对"
        photo_html = (
            f"<img src='{_media_link(candidate.id, 'photo', photo.id)}' alt='证件照' "
            "style='width:180px'>"
            f"<p>与身份证人像比对：{verdict}（距离 {photo.face_distance if photo.face_distance is not None else '—'}，"
            "小于0.6为同一人）</p>"
        )
    live_rows = []
    for attempt in attempts:
        m = attempt.measurements or {}
        reasons = "；".join(r.get("message", "") for r in attempt.reasons) or "—"
        video = (
            f"<video controls preload='none' width='240' src='{_media_link(candidate.id, 'video', attempt.id)}'></video>"
            if attempt.video_key
            else "（现场确认）"
        )
        live_rows.append(
            f"<tr><td>{beijing.minutes(attempt.created_at)}</td><td>{LIVE_NAMES.get(attempt.verdict, attempt.verdict)}</td>"
            f"<td>{m.get('face_distance', '—')}</td><td>{m.get('mouth_movement', '—')}</td>"
            f"<td>{m.get('speech_s', '—')} 秒</td><td>{html.escape(str(m.get('digits_heard', '未识别')))}</td>"
            f"<td>{html.escape(reasons)}</td><td>{video}</td></tr>"
        )
    live_html = (
        "<table><tr><th>时间</th><th>结果</th><th>人脸距离</th><th>口型变化</th><th>语音</th>"
        f"<th>识别数字</th><th>原因</th><th>视频</th></tr>{''.join(live_rows)}</table>"
        if live_rows
        else "<p class='flag'>没有人脸识别记录。</p>"
    )
    csrf = f"<input type='hidden' name='csrf' value='{staff_login.csrf}'>"
    decision = ""
    if current is not None and current.status == "pending":
        reasons = "".join(f"<option value='{k}'>{v}</option>" for k, v in review.REASONS.items())
        parts = "".join(
            f"<label><input type='checkbox' name='parts' value='{k}' id='part-{k}'>{v}</label> "
            for k, v in review.PARTS.items()
        )
        decision = (
            f"<form method='post' action='/office/candidates/{candidate.id}/decision'>{csrf}"
            "<input type='hidden' name='action' value='approve'>"
            "<button class='primary' id='approve'>审核通过</button></form>"
            f"<form method='post' action='/office/candidates/{candidate.id}/decision'>{csrf}"
            "<input type='hidden' name='action' value='reject'><fieldset><legend>审核不通过</legend>"
            f"<p><label>原因 <select name='reason_code' id='reason'>{reasons}</select></label></p>"
            "<p><label>说明（考生可见）<input name='reason_text' id='reason-text' size='50' maxlength='500'></label></p>"
            f"<p>需重新提交：{parts}</p><button class='danger' id='reject'>审核不通过</button></fieldset></form>"
        )
    materials = session.scalars(
        select(Material).where(Material.candidate_id == candidate.id).order_by(Material.id)
    ).all()
    materials_html = "".join(
        f"<li><a href='{_media_link(candidate.id, 'material', m.id)}' target='_blank'>"
        f"{m.major_code} · {'PDF' if m.content_type == 'application/pdf' else '图片'} · "
        f"{m.size // 1024} KB · {beijing.minutes(m.created_at)}</a></li>"
        for m in materials
    )
    failures = sum(a.verdict == "fail" for a in attempts)
    if liveness_status(session, candidate, settings.LIVE_MAX_FAILURES) == "on_site":
        decision += (
            f"<form method='post' action='/office/candidates/{candidate.id}/decision'>{csrf}"
            "<input type='hidden' name='action' value='on_site'>"
            "<button id='on-site'>现场确认完成（考生已持身份证到场核验）</button></form>"
        )
    if current is not None and current.status == "approved" and staff.role == "admin":
        decision += (
            f"<form method='post' action='/office/candidates/{candidate.id}/unlock'>{csrf}"
            "<label>解锁原因 <input name='reason' id='unlock-reason' required maxlength='500'></label> "
            "<button id='unlock'>解锁资料</button></form>"
        )
    state = STATUS_NAMES.get(current.status, current.status) if current else "未提交"
    body = (
        f"<p>姓名：{html.escape(candidate.name)} · 身份证号：{masked_id(candidate.id_number)} · "
        f"报名地州：{html.escape(EXAM_DISTRICTS.get(candidate.exam_district, ''))} · "
        f"审核状态：<b id='status'>{state}</b></p>"
        + (
            f"<p>上次意见：{html.escape(review.REASONS.get(current.reason_code or '', ''))} "
            f"{html.escape(current.reason_text)}</p>"
            if current is not None and current.reason_code
            else ""
        )
        + "<div class='cols'>"
        f"<div class='col'><h3>身份证</h3>{card_html}</div>"
        f"<div class='col'><h3>证件照</h3>{photo_html}</div></div>"
        f"<h3>人脸识别（朗读数字视频，{failures} 次未通过）</h3>{live_html}"
        + (
            f"<h3>特殊专业证明材料</h3><ul id='materials'>{materials_html}</ul>"
            if materials
            else ""
        )
        + f"<h3>审核</h3>{decision or '<p>当前无需处理。</p>'}"
    )
    return _page(f"考生资料：{candidate.name}", body, staff)


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
    candidate = _visible(session, staff, candidate_id)
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
    elif kind == "video":
        attempt = session.get(LiveAttempt, row_id)
        key = (
            attempt.video_key
            if attempt is not None and attempt.candidate_id == candidate.id
            else None
        )
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


@router.post("/candidates/{candidate_id}/decision")
def decide(
    candidate_id: int,
    login: StaffLogin,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    reason_code: Annotated[str, Form()] = "",
    reason_text: Annotated[str, Form(max_length=500)] = "",
    parts: Annotated[list[str] | None, Form()] = None,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Approve, reject (reason + parts to redo), or record an on-site confirmation. Each
    decision is asked for once more on a page of its own (the console runs no scripts)."""
    staff, staff_login = login
    _check_csrf(staff_login, csrf)
    candidate = _visible(session, staff, candidate_id)
    current = review.latest(session, candidate.id)
    chosen = [p for p in (parts or []) if p in review.PARTS]
    # What makes the decision possible is checked before it is asked for again.
    if action == "on_site":
        # Only for a candidate the app sent on site: three failed live checks, none
        # passed or waiting for review.
        if liveness_status(session, candidate, settings.LIVE_MAX_FAILURES) != "on_site":
            raise ApiError(
                409, "on_site_not_due", "该考生未达到现场确认的条件（在线人脸识别3次未通过）。"
            )
    elif action in ("approve", "reject"):
        if current is None or current.status != "pending":
            raise ApiError(409, "not_pending", "该考生没有待审核的提交。")
        if action == "reject" and (reason_code not in review.REASONS or not chosen):
            raise ApiError(422, "reason_required", "请选择不通过的原因和需要重新提交的项目。")
    else:
        raise ApiError(422, "unknown_action", "未知的操作。")
    if confirm != "yes":
        fields = {"action": action, "reason_code": reason_code, "reason_text": reason_text}
        return _confirm_page(
            staff,
            staff_login,
            candidate,
            f"/office/candidates/{candidate.id}/decision",
            [*fields.items(), *(("parts", p) for p in chosen)],
            _question(action, reason_code, chosen),
        )
    if action == "on_site":
        _confirm_on_site(session, candidate)
        review.audit(session, staff, "on_site", candidate.id)
        session.commit()
        return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)
    assert current is not None
    detail = ""
    if action == "approve":
        current.status = "approved"
    else:
        current.status, current.reason_code = "rejected", reason_code
        current.reason_text, current.parts = reason_text.strip(), chosen
        detail = f"{reason_code}: {','.join(chosen)}"
    current.decided_at, current.staff_id = utcnow(), staff.id
    review.audit(session, staff, action, candidate.id, detail)
    session.commit()
    return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)


QUESTIONS = {
    "approve": "确认审核通过？通过后考生的身份信息将被锁定，考生即可报考。",
    "reject": "确认审核不通过？",
    "on_site": "确认该考生已持身份证到报名点现场核验本人身份？人脸识别将记为通过。",
    "unlock": "确认解锁该考生已审核通过的资料？考生修改后须重新提交审核。",
}


def _question(action: str, reason_code: str, parts: list[str]) -> str:
    question = QUESTIONS.get(action, "确认执行该操作？")
    if action == "reject":
        redo = "、".join(review.PARTS.get(p, p) for p in parts) or "（未选择）"
        question += f"原因：{review.REASONS.get(reason_code, '（未选择）')}；需重新提交：{redo}。"
    return question


def _confirm_page(
    staff: Staff,
    staff_login: StaffSession,
    candidate: Candidate,
    action_url: str,
    fields: list[tuple[str, str]],
    question: str,
) -> HTMLResponse:
    """The decision once more, with 确认 and 返回: a slip of the mouse decides nothing."""
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in fields
    )
    body = (
        f"<section class='card confirm'><p>考生：{html.escape(candidate.name)} · "
        f"{masked_id(candidate.id_number)}</p><p id='question'><b>{html.escape(question)}</b></p>"
        f"<form method='post' action='{action_url}' class='inline'>"
        f"<input type='hidden' name='csrf' value='{staff_login.csrf}'>{hidden}"
        "<input type='hidden' name='confirm' value='yes'>"
        "<button class='primary' id='confirm'>确认</button></form>"
        f"<a class='button' id='cancel' href='/office/candidates/{candidate.id}'>返回</a></section>"
    )
    return _page("请确认", body, staff)


def _confirm_on_site(session: SessionDep, candidate: Candidate) -> None:
    """现场确认完成: the candidate was checked in person; the live check counts as passed."""
    now = utcnow()
    challenge = LiveChallenge(
        candidate_id=candidate.id, digits="", created_at=now, expires_at=now, used_at=now
    )
    session.add(challenge)
    session.flush()
    session.add(
        LiveAttempt(
            candidate_id=candidate.id,
            challenge_id=challenge.id,
            video_key="",
            verdict="pass",
            reasons=[{"code": "on_site", "message": "已到报名点现场确认身份。"}],
            measurements={"on_site": True},
        )
    )


@router.post("/candidates/{candidate_id}/unlock")
def unlock(
    candidate_id: int,
    login: StaffLogin,
    session: SessionDep,
    reason: Annotated[str, Form(min_length=2, max_length=500)],
    csrf: Annotated[str, Form()],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """An administrator reopens an approved candidate's data, with a recorded reason
    (asked for once more, like every decision)."""
    staff, staff_login = login
    _check_csrf(staff_login, csrf)
    if staff.role != "admin":
        review.audit(session, staff, "denied", candidate_id, "unlock")
        session.commit()
        raise ApiError(403, "admin_only", "只有管理员可以解锁。")
    candidate = _visible(session, staff, candidate_id)
    current = review.latest(session, candidate.id)
    if current is None or current.status != "approved":
        raise ApiError(409, "not_approved", "只能解锁已审核通过的资料。")
    if confirm != "yes":
        return _confirm_page(
            staff,
            staff_login,
            candidate,
            f"/office/candidates/{candidate.id}/unlock",
            [("reason", reason)],
            QUESTIONS["unlock"] + f"原因：{reason.strip()}",
        )
    current.status = "unlocked"
    review.audit(session, staff, "unlock", candidate.id, reason.strip())
    session.commit()
    return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)


def audit_log(session: SessionDep, candidate_id: int) -> list[dict[str, Any]]:
    """The audit entries about one candidate (for tests and exports)."""
    return [
        {"staff_id": e.staff_id, "action": e.action, "detail": e.detail, "at": e.at}
        for e in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.candidate_id == candidate_id)
            .order_by(AuditEntry.id)
        )
    ]
