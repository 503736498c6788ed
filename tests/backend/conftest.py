"""API tests run the real FastAPI app on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub import jobs
from backend_stub.app import create_app
from backend_stub.config import Settings

AppFactory = Callable[..., TestClient]

CROWD_BUDGETS = {
    "SMS_CAPTCHA_AFTER": 100_000,
    "SMS_PER_CLIENT_HOURLY": 100_000,
    "PUBLIC_PER_CLIENT_PER_MINUTE": 100_000,
    "CLIENT_FAILURES_CAPTCHA": 100_000,
}


def real_budgets() -> dict[str, Any]:
    """The per-client budgets as shipped (to pass to `make_client`)."""
    return {name: Settings.model_fields[name].default for name in CROWD_BUDGETS}


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Build a client for an app with these settings over this test's database."""
    apps: list[FastAPI] = []

    def factory(**settings: Any) -> TestClient:
        # One test client stands for many candidates, each on their own phone: the
        # per-client budgets would otherwise ask it for captchas. The abuse tests
        # (test_abuse.py) pass the real defaults back in.
        for name, value in CROWD_BUDGETS.items():
            settings.setdefault(name, value)
        # Without workers, verification jobs run in the app's own threads; these tests
        # wait for their answer in the request (Prefer: wait, RFC 7240). test_jobs.py
        # polls as the app does.
        settings.setdefault("VERIFY_WORKERS", 0)
        app = create_app(Settings(DATABASE_URL=database_url, DATA_DIR=tmp_path, **settings))
        apps.append(app)
        return TestClient(app, headers={"Prefer": f"wait={jobs.MAX_WAIT_S}"})

    yield factory
    for app in apps:
        app.state.db.engine.dispose()
        app.state.payments.db.engine.dispose()


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()
