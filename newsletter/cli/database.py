"""``newsletter init``: create or migrate the database (Alembic is imported only here)."""

from __future__ import annotations

import typer

from newsletter.cli.common import fail, load_app


def init() -> None:
    """Create or migrate the database (safe to repeat)."""
    from newsletter.store.db import DatabaseError

    application = load_app(ready=False)
    try:
        revision = application.init_db()
    except DatabaseError as exc:
        fail(str(exc))
    typer.echo(
        f"database ready at revision {revision}: {application.engine.url.render_as_string()}"
    )
    configured = application.settings.sources
    if configured:
        added = application.sources.register(configured)  # ConfigError: exit 2
        typer.echo(f"{len(configured)} configured sources, {added} new")
