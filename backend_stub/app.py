"""Builds the FastAPI application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend_stub import guards, jobs, logs, office, orders, queue, uploads
from backend_stub import sms as sms_codes
from backend_stub.config import Settings, get_settings, validate_for_environment
from backend_stub.db import MAX_REQUESTS, Database
from backend_stub.domain import settlement
from backend_stub.domain.errors import DomainError
from backend_stub.errors import FIELD_LABELS, ApiError
from backend_stub.middleware import BodyLimit, ConcurrencyLimit, Limit, SecurityHeaders
from backend_stub.payments import PaymentProvider, SandboxProvider
from backend_stub.routes import (
    accounts,
    auth,
    captcha,
    enrollment,
    health,
    idcard,
    liveness,
    materials,
    payments,
    photo,
    reference,
    review,
    sandbox,
    sms,
    verify_ticket,
)
from backend_stub.routes import jobs as job_routes
from backend_stub.routes import orders as order_routes
from backend_stub.security import load_secret
from backend_stub.sms import OutboxSender, SmsSender
from backend_stub.storage import MediaStore
from verification.errors import VerificationError

log = logging.getLogger("zikao.backend")


def create_app(settings: Settings | None = None, *, sms_sender: SmsSender | None = None) -> FastAPI:
    settings = settings or get_settings()
    validate_for_environment(settings)
    logs.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweepers = [asyncio.create_task(_sweep(app)), asyncio.create_task(_sweep_jobs(app))]
        yield
        for task in sweepers:
            task.cancel()
        if app.state.inline_jobs is not None:
            app.state.inline_jobs.shutdown(wait=False, cancel_futures=True)

    docs = settings.API_DOCS
    app = FastAPI(
        title="自考报名 API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.secret = load_secret(settings.SECRET_KEY, settings.DATA_DIR / "keys" / "server.key")
    app.state.db = Database(settings.database_url)
    app.state.sms_sender = sms_sender or OutboxSender()
    app.state.media = MediaStore(settings.media_dir)
    app.state.inline_jobs = None
    if settings.VERIFY_WORKERS > 0:
        app.state.jobs_runner = queue.sender(queue.make_queue(settings))
    else:
        # Tests: jobs run in threads of this process, through the same rows and rules.
        runtime = jobs.Runtime(settings, app.state.db, app.state.media)
        pool = ThreadPoolExecutor(INLINE_JOB_THREADS, thread_name_prefix="job")
        app.state.inline_jobs = pool
        app.state.jobs_runner = lambda job_id: pool.submit(jobs.execute, runtime, job_id)
    app.state.payments = payment_provider(settings, app.state.db)

    for module in (
        health,
        reference,
        sms,
        accounts,
        auth,
        captcha,
        idcard,
        liveness,
        photo,
        job_routes,
        review,
        enrollment,
        materials,
        office,
        order_routes,
        payments,
        verify_ticket,
    ):
        app.include_router(module.router)
    if settings.SMS_SANDBOX:
        app.include_router(sandbox.router)

    app.add_middleware(
        ConcurrencyLimit, limit=MAX_REQUESTS, applies=lambda p: not p.startswith(EXEMPT_FROM_LIMIT)
    )
    # The provider's notifications have a small gate of their own.
    app.add_middleware(
        ConcurrencyLimit, limit=NOTIFY_CONCURRENCY, applies=lambda p: p.startswith(NOTIFY_PATH)
    )
    app.add_middleware(BodyLimit, limits=body_limits(settings), default=DEFAULT_BODY_LIMIT)
    app.add_middleware(SecurityHeaders, skip_csp=("/docs", "/redoc"))
    app.add_exception_handler(office.LoginRequired, _to_office_login)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(VerificationError, _verification_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


# The payment provider's calls (its own connections) pass the main gate: the sandbox
# delivers its notification from inside a cashier request.
NOTIFY_PATH = "/api/payments/notify/"
EXEMPT_FROM_LIMIT = (NOTIFY_PATH, "/sandbox/", "/healthz")
NOTIFY_CONCURRENCY = 4
# Verification jobs run side by side in the API process when there are no workers (tests).
INLINE_JOB_THREADS = 2
# Multipart framing and form fields around a file.
FORM_OVERHEAD = 64 * 1024
DEFAULT_BODY_LIMIT = Limit("/", 256 * 1024)


def body_limits(settings: Settings) -> list[Limit]:
    """The largest body each upload path takes (checked again per file by the route)."""
    image = uploads.image_too_large(settings.MAX_IMAGE_BYTES)
    return [
        # Front and back of the card in one request.
        Limit("/api/idcard", 2 * settings.MAX_IMAGE_BYTES + FORM_OVERHEAD, *image),
        Limit("/api/photo", settings.MAX_IMAGE_BYTES + FORM_OVERHEAD, *image),
        Limit(
            "/api/liveness/",
            settings.LIVE_MAX_VIDEO_BYTES + FORM_OVERHEAD,
            *uploads.video_too_large(settings.LIVE_MAX_VIDEO_BYTES),
        ),
        Limit(
            "/api/materials",
            settings.MATERIAL_MAX_BYTES + FORM_OVERHEAD,
            *uploads.material_too_large(settings.MATERIAL_MAX_BYTES),
        ),
        Limit(NOTIFY_PATH, settings.NOTIFY_MAX_BYTES),
    ]


def payment_provider(settings: Settings, db: Database) -> PaymentProvider:
    if settings.PAYMENT_PROVIDER != "sandbox":
        raise ValueError(f"unknown PAYMENT_PROVIDER {settings.PAYMENT_PROVIDER!r}")
    # The sandbox stands for a remote provider: its own connections (a request holding
    # one of the API's connections may call it), its own transactions.
    return SandboxProvider(
        Database(db.url),
        settings.DATA_DIR / "keys" / "sandbox-pay-ed25519.pem",
        max_age_seconds=settings.PAYMENT_NOTIFY_MAX_AGE_SECONDS,
    )


async def _sweep_jobs(app: FastAPI) -> None:
    """Every JOB_SWEEP_SECONDS: send again the jobs whose worker died or whose message was
    lost (backend_stub.jobs.requeue_stale)."""
    settings: Settings = app.state.settings
    while True:
        try:
            await asyncio.to_thread(
                jobs.requeue_stale, app.state.db, settings, app.state.jobs_runner
            )
        except Exception as exc:  # keep sweeping; the next round retries
            log.error("job sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(settings.JOB_SWEEP_SECONDS)


async def _sweep(app: FastAPI) -> None:
    """At start and then every ORDER_SWEEP_SECONDS: settle orders the provider says are
    paid (a notification lost in a crash or an outage is not waited for), lapse unpaid
    orders past their 24 hours, drop spent SMS messages and old rate windows."""
    settings: Settings = app.state.settings
    while True:
        try:
            await asyncio.to_thread(sweep_once, app)
        except Exception as exc:  # keep sweeping; the next round retries
            log.error("sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(settings.ORDER_SWEEP_SECONDS)


def sweep_once(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    with app.state.db.sessionmaker() as session:
        settled = settlement.reconcile_open(session, app.state.payments)
        lapsed = orders.sweep_lapsed(session, app.state.payments)
        sms_codes.purge_outbox(session, settings)
        guards.forget_old(session, older_than_s=2 * 24 * 3600)
    if settled:
        log.info("settled %d paid orders whose notification had not arrived", settled)
    if lapsed:
        log.info("lapsed %d unpaid orders", lapsed)


async def _to_office_login(_request: Request, _exc: Exception) -> RedirectResponse:
    return RedirectResponse("/office/login", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/office/") and isinstance(exc.detail, dict):
        # The console is pages: its refusals are pages too.
        return office.page(
            "error.html",
            title="无法完成",
            status_code=exc.status_code,
            message=str(exc.detail.get("message", "")),
        )
    if isinstance(exc.detail, dict):
        body = exc.detail
    elif exc.status_code == 404:
        body = {"code": "not_found", "message": "请求的内容不存在。"}
    elif exc.status_code == 405:
        body = {"code": "method_not_allowed", "message": "不支持该请求方式。"}
    else:
        body = {"code": f"http_{exc.status_code}", "message": "请求无法处理，请稍后重试。"}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    """A rule's refusal, with the status errors.STATUS gives its code."""
    assert isinstance(exc, DomainError)
    return await _http_error(request, ApiError.from_domain(exc))


async def _verification_error(request: Request, exc: Exception) -> Response:
    """The engine refused an upload (unreadable, not a card, no face …): its code and
    message as they are."""
    assert isinstance(exc, VerificationError)
    return await _http_error(request, ApiError(422, exc.code, exc.message))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Name the wrong fields in Chinese; never echo what was sent (it may be personal data)."""
    assert isinstance(exc, RequestValidationError)
    fields: list[str] = []
    not_editable: list[str] = []
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if isinstance(part, str) and part != "body"]
        name = loc[0] if loc else "body"
        target = not_editable if error.get("type") == "extra_forbidden" else fields
        if name not in target:
            target.append(name)
    if not_editable:
        labels = "、".join(FIELD_LABELS.get(f, f) for f in not_editable)
        return JSONResponse(
            {
                "code": "field_not_editable",
                "message": f"{labels}不能在此修改。",
                "fields": not_editable,
            },
            status_code=422,
        )
    order = list(FIELD_LABELS)
    fields.sort(key=lambda f: order.index(f) if f in order else len(order))
    labels = "、".join(FIELD_LABELS.get(f, f) for f in fields if f != "body") or "请求内容"
    return JSONResponse(
        {"code": "invalid_input", "message": f"请检查：{labels}。", "fields": fields},
        status_code=422,
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error: %s", type(exc).__name__)
    return JSONResponse(
        {"code": "internal_error", "message": "服务器开小差了，请稍后重试。"}, status_code=500
    )
