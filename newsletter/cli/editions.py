"""``newsletter compose``, ``preview`` and the ``edition`` group: an editor's decisions on
a draft, each taken by :mod:`newsletter.editions.decisions` (the rules the editors' pages
follow) or by the application's ``decide``; this module prints and chooses exit codes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.common import DateOption, fail, load_app, parse_date, warn

if TYPE_CHECKING:
    from newsletter.store.models import Edition
    from newsletter.wiring import App

edition_app = typer.Typer(
    help="An editor's decisions on a draft: pin, exclude, move items, set subject/preheader. "
    "Each recomposes the draft and keeps every earlier decision.",
    no_args_is_help=True,
)


def print_edition(edition: Edition) -> None:
    """The edition's summary and items, one line each, and its personal variants."""
    typer.echo(
        f"edition {edition.date.isoformat()} ({edition.status}): {len(edition.items)} items, "
        f"{edition.reading_seconds} s of {edition.budget_seconds} s reading"
    )
    typer.echo(f"subject: {edition.subject}")
    typer.echo(f"preheader: {edition.preheader}")
    for index, item in enumerate(edition.items):
        pin = " [pinned]" if item.pinned else ""
        typer.echo(
            f"  {index + 1:>2}. #{item.article_id} [{item.section}] {item.title} "
            f"({item.reading_seconds:.0f} s, score {item.score}){pin}"
        )
        if item.also:
            typer.echo(f"      also: {', '.join(a['source'] for a in item.also)}")
    for variant in edition.variants:
        seconds = round(edition.variant_seconds.get(variant, 0))
        count = len(edition.variant_items(variant))
        typer.echo(f"  variant for topics {variant}: {count} items, {seconds} s")


def compose(
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the edition as JSON.")] = False,
) -> None:
    """Compose the draft edition of a date (recomposing replaces a draft; a sent edition
    never changes)."""
    from newsletter.editions.document import edition_json
    from newsletter.editions.drafts import CLI

    application = load_app()
    target = parse_date(day, application)
    before = application.drafts.get(target)
    result = application.composer.compose(target, actor=CLI)
    if before is not None and before.approved_at is not None and not result.edition.approved_at:
        warn(
            f"the draft changed: the approval by {before.approved_by} of version "
            f"{before.approved_version} is cleared; approve version {result.edition.version} "
            "again (`newsletter edition approve`)"
        )
    if result.locked:
        warn(f"the edition of {target.isoformat()} is {result.edition.status}; it is never changed")
    elif not result.edition.items and result.plan is not None and result.plan.dropped:
        reasons = Counter(d.reason.value for d in result.plan.dropped)
        said = ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
        hint = ""
        if "language" in reasons:
            languages = ",".join(application.composer.options.languages) or (
                application.settings.language
            )
            hint = f"; the edition's languages (NEWSLETTER_LANGUAGES) are {languages}"
        warn(
            f"the edition is empty: every article of its window was left out ({said}{hint}); "
            "`compose --json` lists them under `dropped`"
        )
    elif not result.edition.items:
        send_time = application.settings.send_time
        warn(
            f"no article published in the 24 hours before {target.isoformat()} "
            f"{send_time:%H:%M}: the edition is empty"
        )
    if as_json:
        dropped = [d.as_dict() for d in result.plan.dropped] if result.plan else []
        document = edition_json(result.edition, dropped)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    print_edition(result.edition)


def write_preview(
    application: App, day: date, out: Path | None = None
) -> tuple[Path, Path, list[str]]:
    """Write the edition of ``day`` to ``<out>/<date>/edition.html|.txt`` (default folder
    ``<data_dir>/preview``). Raises :class:`~newsletter.errors.UsageError` when there is no
    edition that day."""
    from newsletter.errors import UsageError

    edition = application.drafts.get(day)
    if edition is None:
        raise UsageError(
            f"no edition for {day.isoformat()}: "
            f"run `newsletter compose --date {day.isoformat()}` first"
        )
    return application.renderer.preview(edition, out or application.settings.data_dir / "preview")


def preview(
    day: DateOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default var/preview).")] = None,
) -> None:
    """Write the edition's final HTML and text as the editor will see them."""
    from newsletter.errors import UsageError

    application = load_app()
    target = parse_date(day, application)
    try:
        html_path, text_path, warnings = write_preview(application, target, out)
    except UsageError as exc:
        fail(str(exc))
    for message in warnings:
        warn(message)
    typer.echo(str(html_path))
    typer.echo(str(text_path))


# --- decisions ---------------------------------------------------------------------------
def _draft(day: str | None, article_id: int | None = None) -> tuple[App, date, Edition | None]:
    """The application, the date and its edition (None when there is none yet: a decision
    composes it, and discards it again when refused); exits 1 for an ``article_id`` that no
    article has."""
    from newsletter.store.articles import article_exists

    application = load_app()
    target = parse_date(day, application)
    if article_id is not None and not article_exists(application.sessions, article_id):
        fail(f"no article #{article_id} (see the ids in `newsletter compose`)")
    return application, target, application.drafts.get(target)


def _decided(decision: Callable[[], Edition], *, refused: Callable[[str], str] = str,
             refused_code: int = 1) -> None:  # fmt: skip
    """Take ``decision`` and print the recomposed draft. A decision that cannot apply
    (``UsageError``) exits ``refused_code`` with ``refused(reason)``; a released edition
    exits 1."""
    from newsletter.errors import UsageError
    from newsletter.store.editions import EditionLocked

    try:
        edition = decision()
    except EditionLocked as exc:
        fail(str(exc))
    except UsageError as exc:
        fail(refused(str(exc)), refused_code)
    print_edition(edition)


@edition_app.command("pin")
def edition_pin(
    article_id: Annotated[int, typer.Argument(help="The article's id (see compose).")],
    day: DateOption = None,
) -> None:
    """Put an article in the edition whatever its score (the first pin leads)."""
    from newsletter.editions import decisions

    application, target, _ = _draft(day, article_id)
    _decided(lambda: decisions.pin(application.drafts, target, article_id))


@edition_app.command("unpin")
def edition_unpin(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Let the ranking decide again about an article."""
    from newsletter.editions import decisions

    application, target, _ = _draft(day)
    _decided(
        lambda: decisions.unpin(application.drafts, target, article_id),
        refused=lambda reason: f"{reason} in the edition of {target.isoformat()}",
    )


@edition_app.command("exclude")
def edition_exclude(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Keep an article out of the edition."""
    from newsletter.editions import decisions

    application, target, _ = _draft(day, article_id)
    _decided(lambda: decisions.exclude_any(application.drafts, target, article_id))


@edition_app.command("include")
def edition_include(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Undo an exclusion."""
    from newsletter.editions import decisions

    application, target, _ = _draft(day)
    _decided(
        lambda: decisions.include(application.drafts, target, article_id),
        refused=lambda reason: f"{reason} from the edition of {target.isoformat()}",
    )


@edition_app.command("move")
def edition_move(
    article_id: Annotated[int, typer.Argument()],
    position: Annotated[int, typer.Argument(help="1-based position; 1 is the lead.", min=1)],
    day: DateOption = None,
) -> None:
    """Place an article at a position (it stays in the edition: it is pinned too)."""
    from newsletter.editions import decisions
    from newsletter.editions.drafts import CLI

    application, target, edition = _draft(day, article_id)
    composed = edition is None
    if edition is None:
        edition = application.composer.compose(target, actor=CLI).edition
    shown = {i.article_id for i in edition.items}
    if position > len(edition.items) + (article_id not in shown):
        if composed:
            application.drafts.discard_untouched(target)
        fail(f"position must be between 1 and {len(edition.items)} (the edition's items)", 2)
    _decided(lambda: decisions.place(application.drafts, target, article_id, position))


@edition_app.command("set")
def edition_set(
    day: DateOption = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Subject line ('' restores the generated one).")
    ] = None,
    preheader: Annotated[
        str | None, typer.Option("--preheader", help="Preheader ('' restores the generated one).")
    ] = None,
) -> None:
    """Set the subject and/or preheader of the draft."""
    from newsletter.editions import decisions

    if subject is None and preheader is None:
        fail("give --subject and/or --preheader", 2)
    application = load_app()
    target = parse_date(day, application)
    _decided(
        lambda: decisions.set_texts(application.drafts, target, subject, preheader), refused_code=2
    )


@edition_app.command("approve")
def edition_approve(
    day: DateOption = None,
    by: Annotated[
        str, typer.Option("--by", help="Who approves (recorded with the approval).")
    ] = "cli",
) -> None:
    """Approve the draft (and lift a hold): with require_approval, the scheduler sends only
    an approved edition."""
    from newsletter.errors import UsageError

    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.approve(target, by=by)
    except UsageError as exc:
        fail(str(exc))
    typer.echo(f"approved {target.isoformat()}" if changed else "already approved")


@edition_app.command("hold")
def edition_hold(
    day: DateOption = None,
    release: Annotated[bool, typer.Option("--release", help="Lift the hold instead.")] = False,
) -> None:
    """Hold the draft: the scheduler does not send it until the hold is lifted."""
    from newsletter.errors import UsageError

    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.hold(target, held=not release)
    except UsageError as exc:
        fail(str(exc))
    state = "hold lifted" if release else "held"
    typer.echo(f"{state}: {target.isoformat()}" if changed else f"already {state.split()[0]}")
