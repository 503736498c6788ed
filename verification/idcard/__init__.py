"""ID-card handling: number rules now; capture, quality and OCR come with the ID-card issue."""

from __future__ import annotations
