"""Pages from templates, autoescaped (no HTML is put together in Python strings)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse

HERE = Path(__file__).resolve().parent
STYLESHEET = HERE / "console.css"


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )


def page(template: str, *, title: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A console page: never cached, never sends a referrer."""
    values.setdefault("staff", None)
    text = _environment().get_template(template).render(title=title, **values)
    return HTMLResponse(
        text,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
