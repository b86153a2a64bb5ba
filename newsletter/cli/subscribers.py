"""``newsletter subscribers add|unsubscribe|import|export|erase|list``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.common import fail, load_app, warn

subscribers_app = typer.Typer(help="Add, import and list subscribers.", no_args_is_help=True)


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    topics: Annotated[
        str | None, typer.Option("--topics", help="Comma-separated categories, e.g. sport,culture.")
    ] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA time zone.")] = None,
) -> None:
    """Add an active subscriber (or update the one with this address)."""
    from newsletter import words
    from newsletter.audience.records import InvalidSubscriber, make_record
    from newsletter.store.subscribers import SuppressedAddress, add_one

    application = load_app()
    try:
        record = make_record(email, name, topics, timezone)
    except InvalidSubscriber as exc:
        fail(str(exc), 2)
    try:
        result = add_one(application.sessions, record, source="cli")
    except SuppressedAddress as exc:
        fail(str(exc))
    verb = "added" if result.created else "updated"
    typer.echo(f"{verb} {record.email} ({result.status})")
    settings = application.settings
    known = set(settings.sections) | set(words.section_titles(settings.language))
    for topic in record.topics:
        if topic not in known:
            warn(f"no configured section is called {topic!r}: it matches only a feed category")
    if result.kept_status:
        warn(f"{record.email} stays {result.kept_status}: only the reader can opt in again")


@subscribers_app.command("unsubscribe")
def subscribers_unsubscribe(
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
) -> None:
    """Unsubscribe an address (a reader's request by other means than the link)."""
    from newsletter.store.subscribers import unsubscribe_address

    application = load_app()
    stored = unsubscribe_address(application.sessions, email)
    if stored is None:
        fail(f"no subscriber {email.strip()}")
    typer.echo(f"unsubscribed {stored}")


_DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "comma": ",",
               "semicolon": ";"}  # fmt: skip


def _delimiter(value: str | None) -> str | None:
    """The separator an option names (``,`` ``;`` ``tab``), or None; exits 2 otherwise."""
    if value is None:
        return None
    if value.lower() not in _DELIMITERS:
        fail(f"--delimiter must be ',', ';' or 'tab', not {value!r}", 2)
    return _DELIMITERS[value.lower()]


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV with header email[,name,topics,timezone].")],
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter", help="Separator: ',' ';' or 'tab' (default: read from the whole file)."
        ),
    ] = None,
) -> None:
    """Import subscribers from a CSV; invalid rows are reported with their line number.

    New addresses are added with the file's values (an export's status, preferences and
    dates included); an existing subscriber keeps its topics, time zone, frequency, format,
    pause and status (readers manage them), and only gets a name if it had none. A topic
    the newsletter does not have, or a suppressed address, refuses its line. UTF-8, UTF-16
    with a BOM, else read as Windows-1252 with a warning. A file that cannot be used at all
    exits 2 and imports nothing.
    """
    from newsletter.audience.records import InvalidSubscriber, import_csv, known_topics

    application = load_app()
    settings = application.settings
    try:
        report = import_csv(
            application.sessions, file, delimiter=_delimiter(delimiter),
            known_topics=known_topics(settings.sections, settings.language),
        )  # fmt: skip
    except InvalidSubscriber as exc:
        fail(str(exc), 2)
    for message in report.warnings:
        warn(message)
    for line in report.rejected:
        typer.echo(f"  rejected: {line}", err=True)
    typer.echo(
        f"{report.added} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected"
        + (f", {report.duplicates} repeated rows merged" if report.duplicates else "")
        + (f", {report.kept_inactive} kept unsubscribed/bounced" if report.kept_inactive else "")
    )


@subscribers_app.command("export")
def subscribers_export(
    file: Annotated[Path, typer.Argument(help="The CSV to write ('-': standard output).")],
    delimiter: Annotated[
        str, typer.Option("--delimiter", help="Separator: ',' (default), ';' or 'tab'.")
    ] = ",",
) -> None:
    """Write every subscriber to a CSV that `subscribers import` restores exactly: the
    address, name, topics, time zone, status, frequency, weekday, format, pause, dates
    (UTC), source and soft bounces. UTF-8 with a BOM, CRLF lines (RFC 4180); a name a
    spreadsheet would run as a formula gets a leading ' (removed again on import)."""
    from newsletter.audience.records import export_csv

    application = load_app()
    separator = _delimiter(delimiter) or ","
    if str(file) == "-":
        count = export_csv(application.sessions, sys.stdout, delimiter=separator)
    else:
        try:
            with file.open("w", encoding="utf-8", newline="") as out:
                count = export_csv(application.sessions, out, delimiter=separator)
        except OSError as exc:
            fail(f"{file}: cannot write: {exc.strerror or exc}", 2)
        typer.echo(f"{count} subscribers written to {file}")


@subscribers_app.command("erase")
def subscribers_erase(
    email: Annotated[str, typer.Argument(help="The address whose data goes.")],
) -> None:
    """Erase a person's data (GDPR art. 17): their subscriber row and preferences go,
    their deliveries keep the counts but no address, provider events lose it; a suppressed
    address stays suppressed as a SHA-256 digest, so it is still refused. Exits 1 when
    nothing held the address."""
    from newsletter.store.erasure import erase_address

    application = load_app()
    done = erase_address(application.sessions, email)
    if not done.found:
        fail(f"nothing holds {email.strip()}")
    typer.echo(
        f"erased {email.strip()}: subscriber {'deleted' if done.subscriber else 'absent'}, "
        f"{done.deliveries} deliveries without address ({done.skipped} not sent, skipped), "
        f"{done.events} provider events"
        + (", still suppressed (as a digest)" if done.suppression else "")
    )


@subscribers_app.command("list")
def subscribers_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List subscribers (streamed: flat memory on large lists)."""
    from newsletter.store.subscribers import subscriber_counts, subscriber_rows

    application = load_app()
    rows = (
        {
            "id": s.id,
            "email": s.email,
            "name": s.name,
            "status": s.status,
            "topics": s.topics,
            "timezone": s.timezone,
            "created_at": s.created_at.isoformat(),
        }
        for s in subscriber_rows(application.sessions)
    )
    if as_json:
        out = sys.stdout
        out.write("[")
        for index, row in enumerate(rows):
            out.write(("," if index else "") + "\n  " + json.dumps(row, ensure_ascii=False))
        out.write("\n]\n")
        return
    for row in rows:
        topics = ",".join(row["topics"]) or "-"  # type: ignore[arg-type]
        name = row["name"] or "-"
        typer.echo(f"{row['id']:>6}  {row['status']:<12} {row['email']:<40} {name}  [{topics}]")
    counts = subscriber_counts(application.sessions)
    typer.echo(
        ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        or "no subscribers"
    )
