"""``newsletter report``: an edition's figures after its send (README "Reports and
clicks"); ``--json`` prints the report's document, a contract."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from newsletter.cli.common import DateOption, fail, load_app, parse_date


def report(
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """An edition's recipients, sent, failed, bounced, complained, unsubscribed, in doubt and
    clicks per item (aggregate)."""
    application = load_app()
    target = parse_date(day, application)
    found = application.reports.report(target)
    if found is None:
        fail(f"no edition for {target.isoformat()}")
    if as_json:
        typer.echo(json.dumps(found.as_json(), ensure_ascii=False))
        return
    typer.echo(f"edition {target.isoformat()}")
    for label, value in (
        ("recipients", found.recipients), ("sent", found.sent), ("failed", found.failed),
        ("bounced", found.bounced), ("complained", found.complained),
        ("unsubscribed", found.unsubscribed), ("in doubt", found.in_doubt),
        ("clicks", found.clicks),
    ):  # fmt: skip
        typer.echo(f"  {label:<13}{value}")
    for item in found.by_item:
        typer.echo(f"  {item.clicks:>6}  {item.title}")
