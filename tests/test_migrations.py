"""Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from launch import create_app
from launch.extensions import db
from tests.support.services import pg_database, pg_database_url


def _check(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_migrations_match_models_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path}/m.db")


def test_migrations_match_models_postgres():
    _check(pg_database_url(pg_database("migrations")))
