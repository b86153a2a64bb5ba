"""``newsletter ingest``: feeds (and files) into articles. feedparser and the language
detection are imported when the command runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.common import load_app

if TYPE_CHECKING:
    from newsletter.ingest.run import SourceReport


def print_source_report(report: SourceReport) -> None:
    """One line per source (and its rejected entries and warnings, indented)."""
    label = report.source + (f" ({report.name})" if report.name else "")
    if report.failed:
        typer.echo(f"{label}: FAILED: {report.failed}")
        return
    typer.echo(
        f"{label}: {report.new} new, {report.updated} updated, {report.skipped} skipped, "
        f"{len(report.errors)} errors"
    )
    for line in report.errors:
        typer.echo(f"  error: {line}")
    for line in report.warnings:
        typer.echo(f"  warning: {line}")


def ingest(
    sources: Annotated[list[str], typer.Argument(help="Feed URLs or files (RSS or Atom).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Ingest feeds; a broken source is reported and the others still load.

    Exits 1 only if every source failed.
    """
    application = load_app()
    reports = application.ingest.sources(sources)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            print_source_report(report)
    if reports and all(report.failed for report in reports):
        raise typer.Exit(1)
