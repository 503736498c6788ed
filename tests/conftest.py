"""Fixtures shared by every test: one fresh database per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_stub.migrate import upgrade
from tests.support.postgres import PostgresCluster

_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except FileNotFoundError as exc:
        pytest.skip(f"PostgreSQL leg skipped: {exc}")
    cluster.start()
    cluster.execute("CREATE DATABASE zikao_template")
    upgrade(cluster.url("zikao_template"))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of its own for this test."""
    if request.param == "sqlite":
        path = tmp_path / "zikao.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = f"test_{next(_counter)}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE zikao_template")
    return cluster.url(name)
