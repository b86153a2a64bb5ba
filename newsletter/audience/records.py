"""Subscribers from the command line and CSV files: validation and import.

Addresses are checked with email-validator (syntax only: no DNS look-up, so imports work
offline), topics are category slugs, time zones IANA names.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.csvtext import UndecodableText, decode_csv_bytes
from newsletter.store.db import transaction
from newsletter.store.subscribers import SubscriberRecord, email_key, import_subscriber
from newsletter.textutil import clean_line, slugify
from newsletter.timeutil import UnknownTimeZone, get_zone

CSV_COLUMNS = ("email", "name", "topics", "timezone")


class InvalidSubscriber(ValueError):
    """A subscriber field is invalid; the message says which and why."""


def normalise_email(value: str) -> str:
    """The address in normal form: domain lower-cased, an internationalised domain in its
    ASCII (IDNA) form so that every SMTP server takes it.

    Raises :class:`InvalidSubscriber` with email-validator's reason. Addresses that need
    SMTPUTF8 (non-ASCII local part) are refused: not every server accepts them.
    """
    try:
        valid = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
        return valid.ascii_email or valid.normalized
    except EmailNotValidError as exc:
        raise InvalidSubscriber(f"invalid address {value.strip()!r}: {exc}") from None


def parse_topics(value: str | list[str] | None) -> list[str]:
    """Topics as unique category slugs (``"Sport, Économie"`` -> ``["sport", "economie"]``)."""
    if not value:
        return []
    parts = re.split(r"[,;|]", value) if isinstance(value, str) else value
    topics: list[str] = []
    for part in parts:
        slug = slugify(part)
        if slug and slug not in topics:
            topics.append(slug)
    return topics


def parse_timezone(value: str | None) -> str | None:
    """An IANA time zone name or None; raises :class:`InvalidSubscriber` if unknown."""
    if not value or not value.strip():
        return None
    try:
        get_zone(value.strip())
    except UnknownTimeZone as exc:
        raise InvalidSubscriber(str(exc)) from None
    return value.strip()


def make_record(
    email: str, name: str | None = None, topics: str | list[str] | None = None,
    timezone: str | None = None,
) -> SubscriberRecord:  # fmt: skip
    """A validated :class:`SubscriberRecord`; raises :class:`InvalidSubscriber`."""
    cleaned_name = clean_line(name or "")[:200] or None
    return SubscriberRecord(
        email=normalise_email(email),
        name=cleaned_name,
        topics=parse_topics(topics),
        timezone=parse_timezone(timezone),
    )


@dataclass
class ImportReport:
    """Outcome of a CSV import: subscribers added (new), existing subscribers updated (a
    missing name filled in) or left unchanged, rows of the file that repeated an address
    (merged into one), existing subscribers in a non-active status (e.g. unsubscribed, left
    so), rows rejected with their line numbers, and warnings about the whole file (unknown
    columns, encoding) that refuse nothing."""

    added: int = 0
    updated: int = 0
    duplicates: int = 0
    kept_inactive: int = 0
    rejected: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Comma-separated by default; semicolons or tabs when the header uses them (spreadsheets
    in French locales export with ";")."""
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_csv(
    path: Path, *, label: str | None = None
) -> tuple[list[tuple[int, SubscriberRecord]], list[str], int, list[str]]:
    """Validated rows of a subscriber CSV (header ``email`` plus optional ``name``,
    ``topics``, ``timezone``; separated by commas, semicolons or tabs) with their line
    numbers, the rejected rows' reasons, the number of rows that repeated an address of the
    file, and warnings about the whole file.

    Encodings: see :func:`newsletter.audience.csvtext.decode_csv_bytes` (UTF-8, UTF-16 with a BOM,
    else Windows-1252 with a warning). ``label`` names the file in messages (default: the
    path; the editors' page passes the uploaded file's name, not its temporary copy).
    Duplicate addresses in the file are merged (the later non-empty fields win). Raises
    :class:`InvalidSubscriber` when the file cannot be read, has no ``email`` column or is
    not CSV (e.g. a field over the csv module's limit of 131,072 characters).
    """
    label = label or str(path)
    try:
        text, encoding_warning = decode_csv_bytes(path.read_bytes())
    except OSError as exc:
        raise InvalidSubscriber(f"{label}: cannot read: {exc.strerror or exc}") from None
    except UndecodableText as exc:
        raise InvalidSubscriber(f"{label}: {exc}") from None
    warnings = [f"{label}: {encoding_warning}"] if encoding_warning else []
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        return _read_rows(reader, label, warnings)
    except csv.Error as exc:
        raise InvalidSubscriber(
            f"{label}: line {reader.line_num + 1}: not a readable subscriber CSV ({exc}); "
            "nothing was imported"
        ) from None


def _read_rows(
    reader: csv.DictReader[str], label: str, warnings: list[str]
) -> tuple[list[tuple[int, SubscriberRecord]], list[str], int, list[str]]:
    """The body of :func:`read_csv`; lets :class:`csv.Error` through."""
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in header:
        raise InvalidSubscriber(f"{label}: the first line must be a header with an 'email' column")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidSubscriber(f"{label}: the header names {', '.join(repeated)} twice")
    reader.fieldnames = header
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        warnings.append(f"{label}: ignoring unknown column(s) {', '.join(unknown)}")
    rejected: list[str] = []
    rows: dict[str, tuple[int, SubscriberRecord]] = {}
    duplicates = 0
    for row in reader:
        line = reader.line_num
        try:
            record = make_record(
                row.get("email") or "", row.get("name"), row.get("topics"), row.get("timezone")
            )
        except InvalidSubscriber as exc:
            rejected.append(f"line {line}: {exc}")
            continue
        key = email_key(record.email)
        if key in rows:
            duplicates += 1
            _, previous = rows[key]
            record = SubscriberRecord(
                email=record.email,
                name=record.name or previous.name,
                topics=record.topics or previous.topics,
                timezone=record.timezone or previous.timezone,
            )
        rows[key] = (line, record)
    return sorted(rows.values(), key=lambda pair: pair[0]), rejected, duplicates, warnings


def import_csv(
    factory: sessionmaker[Session], path: Path, *, source: str = "import",
    label: str | None = None,
) -> ImportReport:  # fmt: skip
    """Import a subscriber CSV in one transaction; invalid rows are reported and skipped.

    New addresses are added with the file's values. An existing subscriber keeps what
    readers manage themselves (topics, time zone, frequency, format, pause) and its status:
    only a missing name is filled in (see
    :func:`newsletter.store.subscribers.import_subscriber`). ``label`` names the file in
    messages (default: the path). Raises :class:`InvalidSubscriber` for a file that cannot
    be used at all; nothing is imported then.
    """
    rows, rejected, duplicates, warnings = read_csv(path, label=label)
    report = ImportReport(rejected=rejected, duplicates=duplicates, warnings=warnings)
    with transaction(factory) as session:
        for _line, record in rows:
            outcome, status = import_subscriber(session, record, source=source)
            if outcome == "added":
                report.added += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
            if outcome != "added" and status != "active":
                report.kept_inactive += 1
    return report
