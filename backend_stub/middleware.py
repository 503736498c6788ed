"""ASGI middleware at the service's edge: body size limits enforced while the body is
read, strict response headers, and concurrency gates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend_stub.errors import ApiError


@dataclass(frozen=True)
class Limit:
    """The largest body a path prefix takes, and the refusal past it."""

    prefix: str
    max_bytes: int
    code: str = "payload_too_large"
    message: str = "提交的内容过大。"


class BodyLimit:
    """Refuse a body over its path's limit: at once from Content-Length, and while
    streaming for a body without one (nothing past the limit is read or spooled)."""

    def __init__(self, app: ASGIApp, *, limits: list[Limit], default: Limit) -> None:
        self.app = app
        # Longest prefix first, so "/api/liveness/" wins over "/api/".
        self.limits = sorted(limits, key=lambda limit: -len(limit.prefix))
        self.default = default

    def limit_for(self, path: str) -> Limit:
        return next((lim for lim in self.limits if path.startswith(lim.prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit.max_bytes
            except ValueError:
                too_large = True
            if too_large:
                await _send_json(send, 413, {"code": limit.code, "message": limit.message})
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise ApiError(413, limit.code, limit.message)
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


# The console and the sandbox cashier: server-rendered forms, no scripts, nothing framed.
PAGE_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Everything else (JSON, media): nothing runs, nothing frames it.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


class SecurityHeaders:
    """Headers every response carries; a response may set its own CSP or cache policy.
    PDFs get no CSP (Chromium's viewer does not open a sandboxed PDF); they are parsed as
    PDFs before they are stored, and nosniff keeps them PDFs."""

    def __init__(self, app: ASGIApp, *, skip_csp: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip_csp = skip_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = dict(headers).get(b"content-type", b"")

                def add(name: bytes, value: str) -> None:
                    if name not in present:
                        headers.append((name, value.encode()))

                add(b"x-content-type-options", "nosniff")
                add(b"x-frame-options", "DENY")
                add(b"referrer-policy", "no-referrer")
                if not path.startswith(self.skip_csp) and not content_type.startswith(
                    b"application/pdf"
                ):
                    page = content_type.startswith(b"text/html")
                    add(b"content-security-policy", PAGE_CSP if page else DATA_CSP)
                if path.startswith("/api/"):
                    add(b"cache-control", "no-store")
                if https:
                    add(b"strict-transport-security", "max-age=31536000")
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class ConcurrencyLimit:
    """At most `limit` requests inside the app at once among the paths `applies` picks;
    the rest wait at the door (a crowd at peak queues instead of exhausting the database
    connections)."""

    def __init__(self, app: ASGIApp, *, limit: int, applies: Callable[[str], bool]) -> None:
        self.app = app
        self.limit = limit
        self.applies = applies
        self._gates: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        async with gate:
            await self.app(scope, receive, send)
