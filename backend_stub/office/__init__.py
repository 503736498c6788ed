"""The exam office's review console: server-rendered pages for a reviewer at a desk.

Why pages from the backend rather than a Flet view: a reviewer works on a large screen
with the evidence side by side and keyboard shortcuts of an ordinary browser; nothing is
installed at the office; and the evidence (ID photos, videos) goes straight from the
private store to the authenticated page, with every view written to the audit log.

`auth` (logins, CSRF, who sees whom), `pages` (queue, evidence), `decisions`, `render` and
`templates/` (Jinja2, autoescaped).
"""

from __future__ import annotations

from fastapi import APIRouter

from backend_stub.office import auth, decisions, pages
from backend_stub.office.auth import LoginRequired
from backend_stub.office.render import page

router = APIRouter()
router.include_router(auth.router)
router.include_router(pages.router)
router.include_router(decisions.router)

__all__ = ["LoginRequired", "page", "router"]
