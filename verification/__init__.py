"""Zikao's identity-verification engine.

Plain Python shared by the backend, the command line and the benchmarks. It imports
neither flet nor fastapi; heavy libraries are imported inside the functions that need them.
"""

from __future__ import annotations

__all__ = ["errors"]
