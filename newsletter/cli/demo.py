"""``newsletter demo``: the whole day on the sample data, in a database of its own."""

from __future__ import annotations

import typer

from newsletter.cli.common import fail, load_app
from newsletter.cli.sending import print_send_result


def demo() -> None:
    """Run the whole day on the sample data: init, ingest, subscribers, compose, send.

    It works in its own SQLite database under <data_dir>/demo/ so that it can never mail
    the sample edition to a real list. With NEWSLETTER_DATABASE_URL set it uses that
    database, but only if it holds nothing but sample data.
    """
    from newsletter.audience.records import import_csv
    from newsletter.cli.editions import write_preview
    from newsletter.config.settings import ConfigError
    from newsletter.errors import UsageError
    from newsletter.ingest.sample import sample_dir
    from newsletter.store.db import DatabaseError
    from newsletter.wiring import App

    base = load_app(ready=False).settings
    if base.database_url is None:
        changes: dict[str, object] = {"data_dir": base.data_dir / "demo"}
        if base.outbox_dir is None:
            changes["outbox_dir"] = base.data_dir / "demo" / "outbox"
        application = App(base.model_copy(update=changes))
    else:
        application = App(base)
    settings = application.settings
    try:
        revision = application.init_db()
    except DatabaseError as exc:
        fail(str(exc))
    foreign = application.ingest.foreign_data()
    if foreign:
        fail(
            f"the demo only runs on an empty or demo database, and {foreign}; "
            "unset NEWSLETTER_DATABASE_URL to run it in its own database"
        )
    typer.echo(f"1. database ready ({revision}): {application.engine.url.render_as_string()}")
    day = application.today()
    report = application.ingest.sample(day)
    typer.echo(
        f"2. sample articles: {report.new} new, {report.updated} updated, "
        f"{report.skipped} unchanged"
    )
    imported = import_csv(application.sessions, sample_dir() / "subscribers.csv", source="demo")
    typer.echo(
        f"3. sample subscribers: {imported.added} added, "
        f"{imported.updated + imported.unchanged} already there"
    )
    result = application.composer.compose(day)
    edition = result.edition
    state = "already released, unchanged" if result.locked else "draft"
    typer.echo(
        f"4. edition {day.isoformat()} ({state}): {len(edition.items)} items, "
        f"{edition.reading_seconds} s of reading for a {edition.budget_seconds} s budget"
    )
    typer.echo(f"   subject: {edition.subject}")
    html_path, _text_path, _ = write_preview(application, day)
    typer.echo(f"   preview: {html_path}")
    try:
        sent = application.release.send(day, early=True)
    except (UsageError, ConfigError) as exc:
        fail(str(exc))
    typer.echo("5. send:")
    print_send_result(sent, application)
    if settings.provider == "file":
        folder = settings.effective_outbox_dir / day.isoformat()
        files = sorted(folder.glob("*.eml"))
        typer.echo(f"\n{len(files)} messages in {folder}:")
        for path in files:
            typer.echo(f"  {path}")
    if sent.run.stopped:
        fail(f"the send stopped: {sent.run.stopped}")
