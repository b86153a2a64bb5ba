"""Subscribers from the command line and CSV files: validation, import and export.

Addresses are checked with email-validator (syntax only: no DNS look-up, so imports work
offline), topics are category slugs, time zones IANA names. CSV follows RFC 4180 as
spreadsheets write it (quoted fields, doubled quotes, line breaks inside quotes), separated
by commas, semicolons (Excel in French and other locales whose decimal mark is a comma) or
tabs; the export carries every column a reader or the system sets, so that importing it
into an empty database restores each row exactly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.csvtext import UndecodableText, decode_csv_bytes
from newsletter.store.db import transaction
from newsletter.store.models import Frequency, MessageFormat, Subscriber, SubscriberStatus
from newsletter.store.subscribers import (
    SubscriberRecord,
    SubscriberState,
    email_key,
    import_batch,
    subscribers_after,
)
from newsletter.textutil import clean_line, slugify
from newsletter.timeutil import UnknownTimeZone, get_zone

#: Columns an import reads: the address, then what the reader chose, then the state a
#: lossless export carries (read for new addresses only).
CSV_COLUMNS = ("email", "name", "topics", "timezone")
STATE_COLUMNS = ("status", "frequency", "weekday", "format", "paused_until", "created_at",
                 "confirmed_at", "unsubscribed_at", "source", "soft_bounces")  # fmt: skip
#: Columns of the export, in order: every one an import reads.
EXPORT_COLUMNS = CSV_COLUMNS + STATE_COLUMNS
#: Separators an import recognises; the export writes commas unless told otherwise.
DELIMITERS = (",", ";", "\t")
#: Leading characters that make a spreadsheet run a cell as a formula (OWASP "CSV
#: Injection"), and the quote the export puts before them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


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
    so), addresses refused because they are on the suppression list, rows rejected with
    their line numbers, and warnings about the whole file (unknown columns, encoding) that
    refuse nothing. ``total`` counts the distinct valid rows, ``processed`` those stored."""

    added: int = 0
    updated: int = 0
    duplicates: int = 0
    kept_inactive: int = 0
    rejected: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    suppressed: int = 0
    total: int = 0
    processed: int = 0


# --- the spreadsheet guard ------------------------------------------------------------------
def spreadsheet_safe(value: str) -> str:
    """A cell that a spreadsheet will not run as a formula (OWASP "CSV Injection"): a
    leading ``= + - @`` or tab/CR gets a ``'``, and so does a leading ``'`` itself, so that
    :func:`spreadsheet_value` gives back exactly ``value``."""
    first = value[:1]
    return GUARD + value if first in FORMULA_TRIGGERS or first == GUARD else value


def spreadsheet_value(cell: str) -> str:
    """The value of a cell written by :func:`spreadsheet_safe`: the guarding ``'`` before a
    formula character (or before another ``'``) is removed; any other cell is itself."""
    if cell[:1] == GUARD and (cell[1:2] in FORMULA_TRIGGERS or cell[1:2] == GUARD):
        return cell[1:]
    return cell


# --- reading ----------------------------------------------------------------------------------
def detect_delimiter(text: str) -> str:
    """The separator of a subscriber CSV, read from the whole file: each of
    :data:`DELIMITERS` is tried with RFC 4180 quoting (doubled quotes, line breaks inside
    quotes); the one whose header names ``email`` and whose records most often have the
    header's number of fields wins (then the one giving the most columns; then the comma).

    The header line alone cannot tell: ``csv.Sniffer`` on it misreads a quoted name holding
    a comma and doubled quotes (as Excel writes them), and a one-column header has no
    separator at all.
    """
    best: tuple[int, int, int] | None = None
    chosen = ","
    for rank, delimiter in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            header = next(reader, [])
            if "email" not in (name.strip().lower().lstrip("\ufeff") for name in header):
                continue
            fitting = sum(1 for row in reader if len(row) == len(header) or not row)
        except csv.Error:
            continue
        score = (fitting, len(header), -rank)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


def _instant(value: str, column: str) -> datetime | None:
    """An ISO 8601 date and time as aware UTC (no offset: UTC), or None when empty."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidSubscriber(f"{column} {value.strip()!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _choice(value: str, column: str, allowed: Collection[str], default: str) -> str:
    word = value.strip().lower() or default
    if word not in allowed:
        raise InvalidSubscriber(f"{column} {value.strip()!r} is not one of {', '.join(allowed)}")
    return word


def _small_int(value: str, column: str, low: int, high: int) -> int | None:
    if not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise InvalidSubscriber(f"{column} {value.strip()!r} is not a number from {low} to {high}")
    return number


def parse_state(row: dict[str, str]) -> SubscriberState | None:
    """The :class:`SubscriberState` of a row holding a ``status`` column (an export's), or
    None for a row without one; raises :class:`InvalidSubscriber` naming the bad column."""
    if "status" not in row:
        return None
    cell = {name: (row.get(name) or "") for name in STATE_COLUMNS}
    frequency = _choice(cell["frequency"], "frequency", list(Frequency), Frequency.DAILY)
    weekday = _small_int(cell["weekday"], "weekday", 0, 6)
    if frequency == Frequency.WEEKLY and weekday is None:
        raise InvalidSubscriber("a weekly reader needs a weekday (0 = Monday ... 6 = Sunday)")
    paused = cell["paused_until"].strip()
    try:
        paused_until = date.fromisoformat(paused) if paused else None
    except ValueError:
        raise InvalidSubscriber(f"paused_until {paused!r} is not a date (YYYY-MM-DD)") from None
    return SubscriberState(
        status=_choice(cell["status"], "status", list(SubscriberStatus), SubscriberStatus.ACTIVE),
        frequency=frequency, weekday=weekday,
        format=_choice(cell["format"], "format", list(MessageFormat), MessageFormat.HTML),
        paused_until=paused_until,
        created_at=_instant(cell["created_at"], "created_at"),
        confirmed_at=_instant(cell["confirmed_at"], "confirmed_at"),
        unsubscribed_at=_instant(cell["unsubscribed_at"], "unsubscribed_at"),
        source=clean_line(cell["source"])[:32] or None,
        soft_bounces=_small_int(cell["soft_bounces"], "soft_bounces", 0, 10**6) or 0,
    )  # fmt: skip


@dataclass
class CsvRows:
    """The validated rows of a subscriber CSV, with their line numbers, the rejected rows'
    reasons, how many rows repeated an address of the file, and warnings about the file."""

    rows: list[tuple[int, SubscriberRecord]]
    rejected: list[str]
    duplicates: int
    warnings: list[str]


def read_csv(
    path: Path, *, label: str | None = None, known_topics: Collection[str] | None = None,
    delimiter: str | None = None,
) -> CsvRows:  # fmt: skip
    """Validated rows of a subscriber CSV (header ``email`` plus optional ``name``,
    ``topics``, ``timezone`` and the export's state columns, :data:`STATE_COLUMNS`).

    The separator is ``delimiter`` or :func:`detect_delimiter`'s (commas, semicolons or
    tabs); fields follow RFC 4180 (doubled quotes). Encodings: see
    :func:`newsletter.audience.csvtext.decode_csv_bytes` (UTF-8, UTF-16 with a BOM, else
    Windows-1252 with a warning). ``label`` names the file in messages (default: the path;
    the editors' page passes the uploaded file's name, not its temporary copy). A topic
    outside ``known_topics`` (None: any) refuses its line. The ``'`` that guards a formula
    in a spreadsheet is removed from names. Duplicate addresses in the file are merged (the
    later non-empty fields win). Raises :class:`InvalidSubscriber` when the file cannot be
    read, has no ``email`` column or is not CSV (e.g. a field over the csv module's limit of
    131,072 characters).
    """
    label = label or str(path)
    try:
        text, encoding_warning = decode_csv_bytes(path.read_bytes())
    except OSError as exc:
        raise InvalidSubscriber(f"{label}: cannot read: {exc.strerror or exc}") from None
    except UndecodableText as exc:
        raise InvalidSubscriber(f"{label}: {exc}") from None
    warnings = [f"{label}: {encoding_warning}"] if encoding_warning else []
    if delimiter is not None and delimiter not in DELIMITERS:
        raise InvalidSubscriber(f"{label}: the separator must be a comma, a semicolon or a tab")
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=delimiter or detect_delimiter(text)
    )
    try:
        return _read_rows(reader, label, warnings, known_topics)
    except csv.Error as exc:
        raise InvalidSubscriber(
            f"{label}: line {reader.line_num + 1}: not a readable subscriber CSV ({exc}); "
            "nothing was imported"
        ) from None


def _read_rows(
    reader: csv.DictReader[str], label: str, warnings: list[str],
    known_topics: Collection[str] | None,
) -> CsvRows:  # fmt: skip
    """The body of :func:`read_csv`; lets :class:`csv.Error` through."""
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in header:
        raise InvalidSubscriber(f"{label}: the first line must be a header with an 'email' column")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidSubscriber(f"{label}: the header names {', '.join(repeated)} twice")
    reader.fieldnames = header
    unknown = [name for name in header if name not in EXPORT_COLUMNS]
    if unknown:
        warnings.append(f"{label}: ignoring unknown column(s) {', '.join(unknown)}")
    known = set(known_topics) if known_topics is not None else None
    rejected: list[str] = []
    rows: dict[str, tuple[int, SubscriberRecord]] = {}
    duplicates = 0
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line, or a row of empty cells (spreadsheets add some)
        try:
            record = make_record(
                row.get("email") or "", spreadsheet_value(row.get("name") or ""),
                row.get("topics"), row.get("timezone"),
            )  # fmt: skip
            if known is not None:
                strangers = [topic for topic in record.topics if topic not in known]
                if strangers:
                    raise InvalidSubscriber(
                        f"unknown topic(s) {', '.join(strangers)} (known: "
                        f"{', '.join(sorted(known))})"
                    )
            record = replace(record, state=parse_state(row))
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
                state=record.state or previous.state,
            )
        rows[key] = (line, record)
    ordered = sorted(rows.values(), key=lambda pair: pair[0])
    return CsvRows(ordered, rejected, duplicates, warnings)


#: Rows stored per transaction of an import (and between two progress reports).
IMPORT_BATCH = 1000


def import_csv(
    factory: sessionmaker[Session], path: Path, *, source: str = "import",
    label: str | None = None, known_topics: Collection[str] | None = None,
    delimiter: str | None = None, progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:  # fmt: skip
    """Import a subscriber CSV; invalid rows are reported and skipped.

    New addresses are added with the file's values, an export's status and preferences
    included. An existing subscriber keeps what readers manage themselves (topics, time
    zone, frequency, format, pause) and its status: only a missing name is filled in (see
    :func:`newsletter.store.subscribers.import_batch`); a suppressed address is refused.
    Rows are stored :data:`IMPORT_BATCH` at a time, each batch in its own transaction, and
    ``progress`` (if given) is called with the report after each: an interrupted import
    keeps the batches done, and running it again completes it (every row it stored is then
    an existing one, unchanged). ``label``, ``known_topics`` and ``delimiter``: see
    :func:`read_csv`. Raises :class:`InvalidSubscriber` for a file that cannot be used at
    all; nothing is imported then.
    """
    read = read_csv(path, label=label, known_topics=known_topics, delimiter=delimiter)
    report = ImportReport(
        rejected=read.rejected, duplicates=read.duplicates, warnings=read.warnings,
        total=len(read.rows),
    )  # fmt: skip
    if progress is not None:
        progress(report)
    for start in range(0, len(read.rows), IMPORT_BATCH):
        chunk = read.rows[start : start + IMPORT_BATCH]
        with transaction(factory) as session:
            outcomes = import_batch(session, [record for _, record in chunk], source=source)
        for (line, record), (outcome, status) in zip(chunk, outcomes, strict=True):
            if outcome == "added":
                report.added += 1
            elif outcome == "updated":
                report.updated += 1
            elif outcome == "suppressed":
                report.suppressed += 1
                report.rejected.append(f"line {line}: {record.email} is on the suppression list")
            else:
                report.unchanged += 1
            if outcome in ("updated", "unchanged") and status != SubscriberStatus.ACTIVE:
                report.kept_inactive += 1
        report.processed += len(chunk)
        if progress is not None:
            progress(report)
    return report


# --- writing ----------------------------------------------------------------------------------
def export_cells(subscriber: Subscriber) -> list[str]:
    """The cells of one subscriber in :data:`EXPORT_COLUMNS` order: datetimes ISO 8601 in
    UTC with their offset, dates ISO 8601, topics joined by commas, the name guarded by
    :func:`spreadsheet_safe`."""

    def instant(value: datetime | None) -> str:
        return value.astimezone(UTC).isoformat() if value is not None else ""

    s = subscriber
    return [
        s.email, spreadsheet_safe(s.name or ""), ",".join(s.topics or []), s.timezone or "",
        s.status, s.frequency, "" if s.weekday is None else str(s.weekday), s.format,
        s.paused_until.isoformat() if s.paused_until else "", instant(s.created_at),
        instant(s.confirmed_at), instant(s.unsubscribed_at), s.source or "",
        str(s.soft_bounces or 0),
    ]  # fmt: skip


def export_header(delimiter: str = ",") -> str:
    """The export's first line (CRLF, RFC 4180), preceded by a UTF-8 byte order mark so
    that spreadsheets read the file as UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerow(EXPORT_COLUMNS)
    return "\ufeff" + buffer.getvalue()


def export_batch(
    factory: sessionmaker[Session], after: int, limit: int, delimiter: str = ","
) -> tuple[str, int, int]:
    """CSV records (CRLF) of up to ``limit`` subscribers with an id above ``after``, by id:
    ``(text, last id written, count)``; the last id is ``after`` when there was none (the
    export is complete)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    last, count = after, 0
    with factory() as session:
        for subscriber in subscribers_after(session, after, limit):
            writer.writerow(export_cells(subscriber))
            last, count = subscriber.id, count + 1
    return buffer.getvalue(), last, count


def export_csv(
    factory: sessionmaker[Session], out: IO[str], *, delimiter: str = ",", batch: int = 1000
) -> int:
    """Write the export to ``out`` (a text file opened with ``newline=""``, UTF-8),
    ``batch`` subscribers per query (memory stays flat on any list); returns the number of
    subscribers written."""
    out.write(export_header(delimiter))
    after, total = 0, 0
    while True:
        text, last, count = export_batch(factory, after, batch, delimiter)
        if count == 0:
            return total
        out.write(text)
        after, total = last, total + count


def known_topics(sections: Collection[str], language: str) -> set[str]:
    """The topics a reader may choose: the newsletter's configured sections (``sections``)
    and the sections the words of ``language`` name (``words.section_titles``)."""
    from newsletter import words

    return set(sections) | set(words.section_titles(language))
