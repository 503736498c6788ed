"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command

from backend_stub.migrate import alembic_config


def test_migrations_match_the_models(database_url: str) -> None:
    # Raises if autogenerate would find any difference between the models and the database.
    command.check(alembic_config(database_url))
