"""The CMS push: articles a newsroom's CMS sends to ``POST /api/articles``, validated and
stored like the articles of a feed.

The body is one article (a JSON object) or a list of at most :data:`MAX_ARTICLES`. Every
article is validated before anything is stored: one bad field stores nothing, and every
error is reported with the article's index and the field's name. Fields:

- ``url`` (required): an http or https URL; stored as ingest stores links (tracking
  parameters and the fragment removed, :func:`~newsletter.ingest.urls.clean_url`), keyed by
  its canonical form;
- ``title`` (required): text or HTML, one line, at most :data:`MAX_TITLE_CHARS` characters;
- ``summary`` and ``content`` (optional): HTML or text, turned to text as a feed's are
  (:func:`~newsletter.textutil.html_to_text`);
- ``published_at`` (required): ISO 8601 with an offset (``2026-12-06T08:30:00+01:00`` or
  ``...Z``);
- ``section`` (the article's category, as the edition's sections read it), ``language``
  (a BCP 47 tag; its primary subtag is kept; detected from the text when absent, as ingest
  does), ``featured`` (a JSON boolean), ``guid`` (the CMS's own id), ``image`` (an http or
  https URL). Other fields are ignored.

An article is the same as one stored when its canonical URL is, else when its ``guid`` is
(among pushed articles): it is then updated, never duplicated. Pushed articles have the
source :data:`PUSH_SOURCE` and, as source name, the name of the token that pushed them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from newsletter.ingest.urls import canonical_key, clean_url
from newsletter.store.articles import ArticleRecord, upsert_article
from newsletter.store.db import transaction
from newsletter.textutil import html_to_text, plain_line
from newsletter.timeutil import utcnow

#: Articles one request may carry.
MAX_ARTICLES = 500
#: The ``source`` of every pushed article (GUIDs are matched within it).
PUSH_SOURCE = "api"
#: Bounds on text fields (characters), those of a feed's entries.
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 200_000
MAX_URL_CHARS = 2048
MAX_GUID_CHARS = 1024
MAX_SECTION_CHARS = 128
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
# An ISO 8601 date-time (RFC 3339 and its common variants): a date, "T" (or a space), a time
# to the minute at least, and an offset ("Z", +hh, +hhmm or +hh:mm).
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)"
)


def _http_url(value: str) -> str:
    """``value`` as stored (:func:`clean_url`); raises ``ValueError`` unless it is an
    absolute http or https URL of at most :data:`MAX_URL_CHARS` characters."""
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"at most {MAX_URL_CHARS} characters")
    cleaned = clean_url(value)
    if not cleaned:
        raise ValueError("an absolute http or https URL is expected")
    return cleaned


class PushedArticle(BaseModel):
    """One pushed article as the CMS sends it (JSON types enforced: a number is not a
    string, ``"true"`` is not a boolean)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: StrictStr
    title: StrictStr
    published_at: StrictStr
    summary: StrictStr | None = None
    content: StrictStr | None = None
    section: StrictStr | None = None
    language: StrictStr | None = None
    featured: StrictBool = False
    guid: StrictStr | None = None
    image: StrictStr | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        return _http_url(value) if value else None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        title = plain_line(value)
        if not title or not re.search(r"\w", title):
            raise ValueError("a title is required")
        if len(title) > MAX_TITLE_CHARS:
            raise ValueError(f"at most {MAX_TITLE_CHARS} characters")
        return title

    @field_validator("published_at")
    @classmethod
    def _published_at(cls, value: str) -> str:
        if not _DATE_TIME.fullmatch(value):
            raise ValueError(
                "an ISO 8601 date-time with an offset is expected, e.g. 2026-12-06T08:30:00+01:00"
            )
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"{value} is not a date-time of the calendar") from None
        if not 1971 <= moment.year <= 9998:
            raise ValueError("out of range (1971 to 9998)")
        return value

    @field_validator("section")
    @classmethod
    def _section(cls, value: str | None) -> str | None:
        section = plain_line(value) if value else ""
        if len(section) > MAX_SECTION_CHARS:
            raise ValueError(f"at most {MAX_SECTION_CHARS} characters")
        return section or None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if not value:
            return None
        match = _LANGUAGE.fullmatch(value)
        if not match:
            raise ValueError("a language tag is expected, e.g. fr or fr-MA")
        return match[1].lower()

    @field_validator("guid")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value and len(value) > MAX_GUID_CHARS:
            raise ValueError(f"at most {MAX_GUID_CHARS} characters")
        return value or None

    def published(self) -> datetime:
        """``published_at`` as an aware UTC datetime (validated already)."""
        return datetime.fromisoformat(self.published_at.replace("z", "Z")).astimezone(UTC)


@dataclass(frozen=True)
class FieldError:
    """Why a pushed body is refused: the article's ``index`` in the list (0 for a single
    article; None for the body as a whole), the ``field`` (None for the whole article) and
    an English ``message``."""

    index: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ``{"index", "field", "message"}``."""
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Pushed:
    """One stored article: its ``id``, its ``url`` as stored, and ``status``: ``"created"``
    or ``"updated"`` (also when it was already stored unchanged)."""

    id: int
    url: str
    status: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ``{"id", "url", "status"}``."""
        return {"id": self.id, "url": self.url, "status": self.status}


@dataclass(frozen=True)
class PushResult:
    """What a push did: the stored articles in the order sent, or the errors (then nothing
    was stored)."""

    articles: list[Pushed]
    errors: list[FieldError]

    @property
    def created(self) -> bool:
        """True when at least one article is new."""
        return any(article.status == "created" for article in self.articles)


def validate(payload: object, source_name: str) -> tuple[list[ArticleRecord], list[FieldError]]:
    """The records of a pushed JSON ``payload`` (an object or a list of objects) for the
    token named ``source_name``, or every error found (then no record)."""
    items = payload if isinstance(payload, list) else [payload]
    if isinstance(payload, list) and not payload:
        return [], [FieldError(None, None, "no article: send an object or a non-empty list")]
    if len(items) > MAX_ARTICLES:
        return [], [FieldError(None, None, f"at most {MAX_ARTICLES} articles per request")]
    records: list[ArticleRecord] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(FieldError(index, None, "an article is a JSON object"))
            continue
        try:
            article = PushedArticle.model_validate(item)
        except ValidationError as exc:
            for problem in exc.errors(include_url=False):
                where = problem["loc"][0] if problem["loc"] else None
                message = str(problem["msg"]).removeprefix("Value error, ")
                errors.append(FieldError(index, str(where) if where is not None else None, message))
            continue
        records.append(_record(article, len(records), source_name))
    return ([], errors) if errors else (records, [])


def _record(article: PushedArticle, position: int, source_name: str) -> ArticleRecord:
    from newsletter.ingest.language import resolve_language  # py3langid: loaded when used

    summary = html_to_text(article.summary or "")
    body = html_to_text(article.content or "")[:MAX_BODY_CHARS]
    section = article.section
    return ArticleRecord(
        url=article.url,
        url_key=canonical_key(article.url),
        source=PUSH_SOURCE,
        source_name=source_name,
        title=article.title,
        published_at=article.published(),
        summary=summary,
        body=body,
        guid=article.guid,
        category=section,
        tags=[section] if section else [],
        language=resolve_language(
            article.language, None, f"{article.title}. {summary or body[:1000]}"
        ),
        image_url=article.image,
        feed_position=position,
        featured=article.featured,
    )


class Push:
    """The CMS push into the store behind ``factory``."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def push(self, payload: object, source_name: str) -> PushResult:
        """Validate every article of ``payload`` (a parsed JSON body), then store them all in
        one transaction (see :func:`validate`); nothing is stored when one is refused."""
        records, errors = validate(payload, source_name)
        if errors:
            return PushResult([], errors)
        now = utcnow()
        pushed: list[Pushed] = []
        with transaction(self.factory) as session:
            for record in records:
                article, outcome = upsert_article(session, record, now)
                status = "created" if outcome == "new" else "updated"
                pushed.append(Pushed(article.id, article.url, status))
        return PushResult(pushed, [])
