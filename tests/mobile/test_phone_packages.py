"""The app as a phone build has it: only its own dependencies (pyproject's core list).
The server's engine and libraries (numpy, OpenCV, dlib, PyAV, FastAPI, SQLAlchemy) are
blocked; importing the app and building every screen must not need them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = {
        "numpy", "cv2", "dlib", "face_recognition", "av", "onnxruntime", "rapidocr",
        "faster_whisper", "fastapi", "starlette", "sqlalchemy", "verification",
        "backend_stub",
    }

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not in the phone's package set")
            return None

    sys.meta_path.insert(0, Block())

    import flet as ft
    from mobile import app
    from mobile.services.models import Candidate, JourneyStep, Option, Reference
    from mobile.state import AppState

    state = AppState()
    state.candidate = Candidate(
        name="古丽", id_number="650102199601123023", kind="new", phone="13800138000",
        exam_district="6501", sex="女", birth_date="1996-01-12",
        journey=[JourneyStep(key="account", title="账号注册", status="done")],
    )
    state.api.token = "t"
    state.reference = Reference(
        exam_districts=[Option(key="6501", text="乌鲁木齐市")], ethnicities=["汉族"],
        political_statuses=["群众"], educations=["高中"], occupations=["学生"],
        hukou_types=["城镇", "农村"],
    )

    async def navigate(route):
        pass

    built = 0
    for route, (builder, _login, _choices) in app.ROUTES.items():
        view = builder(state, navigate)
        assert isinstance(view, ft.View), route
        built += 1
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("built", built)
    """
)


def test_the_app_imports_and_builds_every_screen_with_the_phone_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "built 11" in result.stdout
