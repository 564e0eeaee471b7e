"""Alembic environment: migrates the database named by the ``sqlalchemy.url`` option (set by monitor.store)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, engine_from_config, pool

from monitor.store.tables import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("url") or config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url")
    engine = (
        create_engine(url, poolclass=pool.NullPool)
        if url is not None
        else engine_from_config(
            config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    )
    with engine.connect() as conn:
        _run(conn)


def _run(connection: object) -> None:
    batch = connection.dialect.name == "sqlite"  # type: ignore[attr-defined]  # SQLite cannot ALTER most things
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=batch)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
