"""Logging that keeps secrets out: single-use tokens in paths never reach the log."""

from __future__ import annotations

import logging
import re

# Paths whose last segment is a bearer secret: the sandbox cashier's code and the
# one-time document links.
_TOKEN_PATH = re.compile(r"(/sandbox/pay/|/api/documents/)[^/?#\s\"]+")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message arguments (uvicorn's access log passes the path as
    one) and its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Attach the filter to uvicorn's access and error loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
