"""The verification workers: started with the app, models loaded before the first upload."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from tests.backend.conftest import AppFactory
from verification.speech import BUNDLED_MODEL_DIR

# The workers never touch the database: one kind of it is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def loaded_models() -> dict[str, Any]:
    """Run in a worker: what that process has loaded so far."""
    from verification import liveness
    from verification.idcard import ocr

    return {
        "face_recognition": "face_recognition" in sys.modules,
        "ocr_engines": ocr.engine.cache_info().currsize,
        "recognisers": {key: value[0] is not None for key, value in liveness._RECOGNISERS.items()},
    }


def test_the_worker_loads_the_models_when_the_app_starts(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=1, ASR_MODEL_DIR=str(BUNDLED_MODEL_DIR))
    with client:  # runs the app's startup
        # One worker takes its tasks in order: the warm-up, then this question.
        loaded = asyncio.run(client.app.state.verifier.run(loaded_models))  # type: ignore[attr-defined]
    assert loaded == {
        "face_recognition": True,
        "ocr_engines": 1,
        "recognisers": {str(BUNDLED_MODEL_DIR): True},
    }


def test_without_workers_nothing_is_loaded_at_startup(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=0)
    with client:
        assert client.app.state.verifier._pool is None  # type: ignore[attr-defined]
