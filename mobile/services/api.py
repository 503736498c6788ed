"""The backend API client. Views call these methods; they never build requests. What it
returns is typed in `models` (re-exported here for the views). One method per endpoint,
so the module is as long as the API is wide."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from mobile.services.models import (
    ApiError,
    Candidate,
    IdCardReading,
    LoginSession,
    Reference,
)

DEFAULT_API_URL = "http://127.0.0.1:8000"
# Idle connections are dropped well before the server drops them (backend_stub.__main__.
# KEEP_ALIVE_S; reverse proxies keep them longer still): reusing one that the server is
# closing fails the request with a network error.
KEEPALIVE_S = 15.0
# Uploads for the verification engine are jobs (202, then GET /api/jobs/{id}): the app
# asks at these intervals, and gives up waiting (not the job) after JOB_WAIT_S. It does not
# ask the server to hold the answer (Prefer: wait): a held request keeps one of the API
# process's request slots (backend_stub.middleware.ConcurrencyLimit) while it waits.
JOB_POLL_S = (0.3, 0.5, 0.7, 1.0, 1.0, 1.5, 2.0)
JOB_WAIT_S = 600.0
JOB_POLL_RETRIES = 5

Status = Callable[[str], Awaitable[None]]

__all__ = ["ApiClient", "ApiError", "Candidate", "IdCardReading", "LoginSession", "Reference"]


class ApiClient:
    """Async client for one app session; holds the bearer token after login."""

    def __init__(
        self, base_url: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.base_url = base_url or os.environ.get("ZIKAO_API_URL", DEFAULT_API_URL)
        self.token: str | None = None
        self._transport = transport
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=30.0,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
            transport=self._transport,
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The connection pool, made anew if it was closed (the app may outlive it: a
        web session is kept across a reload or a dropped connection)."""
        if self._client.is_closed:
            self._client = self._new_client()
        return self._client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        raw: bool = False,
        on_status: Status | None = None,
    ) -> Any:
        """The one request path: JSON, a streamed body or a multipart form; the login's
        token; a network failure or a refusal as an ApiError in Chinese. `raw`: the
        answer's bytes (an image) instead of its JSON. An upload the server queues (202)
        is waited for, telling `on_status` where it stands."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = await self.http.request(
                method,
                path,
                json=json,
                content=content,
                files=files,
                data=data,
                headers=headers,
                timeout=timeout or self.http.timeout,
            )
        except httpx.HTTPError:
            raise ApiError("network_error", "无法连接服务器，请检查网络后重试。") from None
        if raw and response.status_code < 400:
            return response.content
        if response.status_code == 202 and response.headers.get("location", "").startswith(
            "/api/jobs/"
        ):
            return await self._job_answer(self._body(response), on_status)
        return self._body(response)

    async def _job_answer(self, job: dict[str, Any], on_status: Status | None) -> Any:
        """Poll a verification job until it ends: its answer, or its refusal as an
        ApiError. A dropped connection while waiting is retried (the job goes on)."""
        deadline = time.monotonic() + JOB_WAIT_S
        step = failures = 0
        while job["status"] not in ("done", "failed"):
            if on_status is not None:
                await on_status(job_text(job))
            if time.monotonic() > deadline:
                raise ApiError("job_timeout", "识别时间较长，请稍后回到本页查看结果。")
            await asyncio.sleep(JOB_POLL_S[min(step, len(JOB_POLL_S) - 1)])
            step += 1
            try:
                job = await self._call("GET", f"/api/jobs/{job['id']}")
            except ApiError as exc:
                if exc.code != "network_error" or failures >= JOB_POLL_RETRIES:
                    raise
                failures += 1
        error = job.get("error")
        if error:
            raise ApiError(
                error["code"],
                error.get("message", ""),
                status=job.get("result_status") or 500,
                fields=error.get("fields"),
            )
        return job["result"]

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        """The JSON body, or the refusal as an ApiError."""
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if not isinstance(body, dict) or "code" not in body:
                body = {
                    "code": f"http_{response.status_code}",
                    "message": "服务器暂时无法处理，请稍后重试。",
                }
            raise ApiError(
                body["code"],
                body.get("message", ""),
                status=response.status_code,
                fields=body.get("fields"),
            )
        try:
            return response.json()
        except ValueError:  # a proxy's error page, a cut-off answer
            raise ApiError(
                "bad_response", "服务器暂时无法处理，请稍后重试。", status=response.status_code
            ) from None

    async def reference(self) -> Reference:
        return Reference.model_validate(await self._call("GET", "/api/reference"))

    async def captcha(self) -> tuple[str, bytes]:
        """A new image captcha: its id and the PNG to show."""
        body = await self._call("POST", "/api/captcha")
        return body["captcha_id"], base64.b64decode(body["image_png_base64"])

    async def send_sms_code(
        self,
        phone: str,
        purpose: str,
        *,
        id_number: str | None = None,
        captcha: dict[str, str] | None = None,
    ) -> int:
        """Send a code; returns the seconds until another may be requested."""
        body = await self._call(
            "POST",
            "/api/sms/codes",
            json={"phone": phone, "purpose": purpose, "id_number": id_number, **(captcha or {})},
        )
        return int(body["retry_after"])

    async def register_new(self, form: dict[str, Any]) -> LoginSession:
        return self._logged_in(await self._call("POST", "/api/accounts/new", json=form))

    async def register_enrolled(self, form: dict[str, Any]) -> LoginSession:
        return self._logged_in(await self._call("POST", "/api/accounts/enrolled", json=form))

    async def login(
        self, account: str, password: str, *, captcha: dict[str, str] | None = None
    ) -> LoginSession:
        body = await self._call(
            "POST",
            "/api/auth/login",
            json={"account": account, "password": password, **(captcha or {})},
        )
        return self._logged_in(body)

    async def logout(self) -> None:
        try:
            await self._call("POST", "/api/auth/logout")
        finally:
            self.token = None

    async def reset_password(self, form: dict[str, Any]) -> str:
        return (await self._call("POST", "/api/auth/password-reset", json=form))["message"]

    async def me(self) -> Candidate:
        return Candidate.model_validate(await self._call("GET", "/api/me"))

    async def upload_idcard(
        self,
        front: bytes,
        *,
        on_progress: Callable[[float], Awaitable[None]] | None = None,
        on_status: Status | None = None,
    ) -> IdCardReading:
        """Send the photo and read the result."""
        data = await self._upload(
            "/api/idcard", "front", "card.jpg", "image/jpeg", front, on_progress, on_status
        )
        return IdCardReading.model_validate(data)

    async def _upload(
        self,
        path: str,
        field: str,
        filename: str,
        content_type: str,
        payload: bytes,
        on_progress: Callable[[float], Awaitable[None]] | None,
        on_status: Status | None = None,
    ) -> Any:
        """One file as multipart, sent in chunks so progress can be shown."""
        boundary = secrets.token_hex(16)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body = head + payload + f"\r\n--{boundary}--\r\n".encode()
        chunk = 64 * 1024

        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(body), chunk):
                yield body[start : start + chunk]
                if on_progress is not None:
                    await on_progress(min(1.0, (start + chunk) / len(body)))

        return await self._call(
            "POST",
            path,
            content=stream(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(body)),
            },
            timeout=120.0,
            on_status=on_status,
        )

    async def liveness(self) -> dict[str, Any]:
        """Status (todo / passed / review / on_site), attempts left, past verdicts."""
        return await self._call("GET", "/api/liveness")

    async def new_challenge(self) -> dict[str, Any]:
        """Fresh digits to read aloud (valid five minutes, one upload)."""
        return await self._call("POST", "/api/liveness/challenge")

    async def upload_liveness(
        self,
        challenge_id: int,
        video: bytes,
        *,
        on_progress: Callable[[float], Awaitable[None]] | None = None,
        on_status: Status | None = None,
    ) -> dict[str, Any]:
        kind = "video/webm" if video[:4] == b"\x1aE\xdf\xa3" else "video/mp4"
        return await self._upload(
            f"/api/liveness/{challenge_id}/video",
            "video",
            "clip.webm" if kind == "video/webm" else "clip.mp4",
            kind,
            video,
            on_progress,
            on_status,
        )

    async def latest_idcard(self) -> IdCardReading | None:
        """The latest ID-card photo and its reading (None before the first one)."""
        try:
            return IdCardReading.model_validate(await self._call("GET", "/api/idcard"))
        except ApiError as exc:
            if exc.code == "idcard_not_found":
                return None
            raise

    async def idcard_crop(self, submission_id: int) -> bytes | None:
        """The card as the server straightened it for reading (JPEG), if it has one."""
        try:
            data = await self._call("GET", f"/api/idcard/{submission_id}/crop", raw=True)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return bytes(data)

    async def confirm_idcard(self, submission_id: int, fields: dict[str, Any]) -> IdCardReading:
        data = await self._call("POST", f"/api/idcard/{submission_id}/confirm", json=fields)
        return IdCardReading.model_validate(data)

    async def _post_file(
        self,
        path: str,
        data: bytes,
        form: dict[str, str] | None = None,
        *,
        filename: str = "photo.jpg",
        content_type: str = "image/jpeg",
    ) -> Any:
        """Multipart upload of a small file (a standard photo is tens of KB after fixing)."""
        return await self._call(
            "POST",
            path,
            files={"file": (filename, data, content_type)},
            data=form or {},
            timeout=120.0,
        )

    async def photo_profile(self) -> str:
        """The key of the photo rules (rules.photo.PROFILES) the exam office applies."""
        return (await self._call("GET", "/api/photo/spec"))["profile"]

    async def check_photo(self, data: bytes) -> dict[str, Any]:
        return await self._post_file("/api/photo/check", data)

    async def fix_photo(
        self, data: bytes, *, replace_background: bool = False
    ) -> tuple[bytes, dict[str, Any]]:
        """一键修正: the fixed JPEG and the backend's check of it."""
        body = await self._post_file(
            "/api/photo/fix",
            data,
            {"replace_background": "true" if replace_background else "false"},
        )
        return base64.b64decode(body["jpeg_base64"]), body

    async def submit_photo(self, data: bytes) -> dict[str, Any]:
        return await self._post_file("/api/photo", data)

    def _logged_in(self, body: Any) -> LoginSession:
        session = LoginSession.model_validate(body)
        self.token = session.token
        return session

    # 报考, orders, payment -----------------------------------------------------------

    async def catalog(self) -> dict[str, Any]:
        """The current session: districts with sites (seats left), majors with courses."""
        return await self._call("GET", "/api/catalog")

    async def enrollment(self) -> dict[str, Any]:
        return await self._call("GET", "/api/enrollment")

    async def save_enrollment(
        self, site_id: int, major_code: str, course_codes: list[str]
    ) -> dict[str, Any]:
        return await self._call(
            "PUT",
            "/api/enrollment",
            json={"site_id": site_id, "major_code": major_code, "course_codes": course_codes},
        )

    async def create_order(self) -> dict[str, Any]:
        return await self._call("POST", "/api/orders")

    async def orders(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/api/orders")

    async def order(self, order_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/api/orders/{order_id}")

    async def cancel_order(self, order_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/api/orders/{order_id}/cancel")

    async def new_payment_code(self, order_id: int, *, channel: str = "qr") -> dict[str, Any]:
        """A QR code URL for the order ("qr"), or the page that pays on this phone with its
        wallet app ("h5"); valid a few minutes (`expires_in`), any older code stops."""
        return await self._call(
            "POST", f"/api/orders/{order_id}/payment", json={"channel": channel}
        )

    async def query_payment(self, order_id: int) -> dict[str, Any]:
        """查询缴费结果: the backend asks the payment provider."""
        return await self._call("POST", f"/api/orders/{order_id}/query")

    async def document_link(self, order_id: int, kind: str) -> str:
        """A one-time URL of a PDF (receipt / ticket) to open in the browser."""
        body = await self._call("POST", f"/api/orders/{order_id}/documents/{kind}")
        return body["url"]

    async def submit_review(self) -> dict[str, Any]:
        """提交资格审核 (again, after redoing what was rejected)."""
        return await self._call("POST", "/api/review")

    async def upload_material(self, major_code: str, data: bytes) -> dict[str, Any]:
        """A proof document (PDF or JPEG) for a special major."""
        is_pdf = data[:5] == b"%PDF-"
        return await self._post_file(
            "/api/materials",
            data,
            {"major_code": major_code},
            filename="material.pdf" if is_pdf else "material.jpg",
            content_type="application/pdf" if is_pdf else "image/jpeg",
        )


def job_text(job: dict[str, Any]) -> str:
    """Where a verification job stands, for the candidate."""
    if job["status"] == "queued":
        ahead = job.get("ahead") or 0
        return f"排队中，前面还有 {ahead} 位…" if ahead else "排队中，马上开始…"
    return "正在识别，请稍候…"
