"""API tests run the real FastAPI app on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.app import create_app
from backend_stub.config import Settings

AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Build a client for an app with these settings over this test's database."""
    apps: list[FastAPI] = []

    def factory(**settings: Any) -> TestClient:
        app = create_app(Settings(DATABASE_URL=database_url, DATA_DIR=tmp_path, **settings))
        apps.append(app)
        return TestClient(app)

    yield factory
    for app in apps:
        app.state.db.engine.dispose()
        app.state.payments.db.engine.dispose()


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()
