"""Alembic environment: runs on the engine handed over by ``newsletter.store.db.migrate``."""

from __future__ import annotations

from alembic import context

from newsletter.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: take the URL from the settings
    from newsletter.config.settings import load_settings
    from newsletter.store.db import make_engine

    engine = make_engine(load_settings().effective_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
