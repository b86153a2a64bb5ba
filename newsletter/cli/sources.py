"""``newsletter sources``: the feeds the newsroom registers and their polling (``add``,
``list``, ``remove``, ``poll``). feedparser and httpx are imported when a poll runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.common import fail, load_app

if TYPE_CHECKING:
    from newsletter.ingest.polling import SourceView

sources_app = typer.Typer(
    help="The newsroom's sources: feeds polled by `newsletter run`.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the sources as JSON.")]


def _print(views: list[SourceView], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        return
    if not views:
        typer.echo("no sources (add one with `newsletter sources add URL`)")
    for view in views:
        polled = f"{view.last_polled:%Y-%m-%d %H:%M}Z" if view.last_polled else "never polled"
        status = view.last_status or "-"
        line = (
            f"{view.id:>4}  {view.url}  name={view.name or '-'} section={view.section or '-'} "
            f"every={view.every_minutes:g}min  {polled} {status}"
        )
        if view.last_status:
            line += f" new={view.new} updated={view.updated}"
        typer.echo(line)
        if view.error:
            typer.echo(f"      error ({view.failures} in a row): {view.error}")


@sources_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The feed's http(s) URL (RSS or Atom).")],
    name: Annotated[str | None, typer.Option("--name", help="Name shown to readers.")] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Section of entries without a category.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Entries' default language (fr, en...).")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="Zone of dates written without one (IANA name)."),
    ] = None,
    every: Annotated[
        float | None,
        typer.Option("--every", help="Minutes between polls (default NEWSLETTER_POLL_MINUTES)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a feed (checked: a well-formed http or https URL). Its first fetch is the
    next poll (`newsletter run`, or `newsletter sources poll`)."""
    from newsletter.errors import UsageError

    application = load_app()
    try:
        view, created = application.sources.add(
            url, name=name, section=section, language=language, timezone=timezone, every=every
        )
    except UsageError as exc:
        fail(str(exc), 2)
    if as_json:
        typer.echo(json.dumps(view.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"source {view.id} {'added' if created else 'updated'}: {view.url}")


@sources_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The sources with their health: last poll, its status and counts, the last error."""
    _print(load_app().sources.registered(), as_json)


@sources_app.command("remove")
def remove(source_id: Annotated[int, typer.Argument(help="The source's id.")]) -> None:
    """Forget a source (its articles stay). Exits 1 when there is no such source."""
    if not load_app().sources.remove(source_id):
        fail(f"no source {source_id}")
    typer.echo(f"source {source_id} removed")


@sources_app.command("poll")
def poll(
    every: Annotated[bool, typer.Option("--all", help="Poll every source, due or not.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Poll the sources due now (every one with --all). Exits 1 when every polled source
    failed."""
    views = load_app().sources.poll(every=every)
    _print(views, as_json)
    if views and all(v.error for v in views):
        raise typer.Exit(1)
