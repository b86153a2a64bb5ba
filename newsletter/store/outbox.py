"""The outbox: one delivery row per (edition, subscriber) and its state machine.

``pending -> claimed -> sending -> sent | deferred | failed``; ``skipped`` for a subscriber
who stopped being active (or was suppressed) before the row was marked ``sending``: the
statement that marks rows ``sending`` reads the subscriber's status itself, so an
unsubscribe committed before it stops the message. ``claimed`` rows belong to a worker but
were never handed over (safe to give back when that worker is dead); ``sending`` rows were
handed over and await their answer (never resent blindly). Every transition is one
guarded ``UPDATE ... WHERE status IN (...)`` so that two workers (or two schedulers) cannot
both win a row. Claiming
uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers and ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.store.db import Executor, affected, connection_of
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from newsletter.timeutil import utcnow

#: Retry delays for deferred deliveries: 5 min doubling per attempt, capped at 6 hours.
RETRY_BASE_SECONDS = 300
RETRY_CAP_SECONDS = 6 * 3600
#: Statuses a worker may claim from.
CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)
#: The claimable rows' condition, word for word the partial index's (models.Delivery).
CLAIMABLE_CONDITION = text("deliveries.status IN ('pending', 'deferred')")


@dataclass(frozen=True)
class ClaimedDelivery:
    """A row this worker now owns in ``sending``: where and to whom to send."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    attempts: int
    variant: str = ""  # the subscriber's topics key ("culture,sport"; "" = none)
    format: str = "html"  # the subscriber's MessageFormat: "html" (multipart) or "text"
    first_deferred_at: datetime | None = None  # the provider's first deferral, if any


@dataclass(frozen=True)
class Outcome:
    """A provider's answer for one delivery.

    ``status`` is ``sent``, ``deferred`` or ``failed``; ``code`` the SMTP or HTTP status when
    there is one; ``retry_after`` (seconds) overrides the backoff of a deferral, and
    ``retry_at`` (aware UTC) both.
    """

    delivery_id: int
    status: DeliveryStatus
    provider: str
    provider_message_id: str | None = None
    code: int | None = None
    detail: str | None = None
    retry_after: float | None = None
    retry_at: datetime | None = None


def create_deliveries(
    session: Session,
    edition_id: int,
    *,
    frequency: Frequency = Frequency.DAILY,
    weekday: int | None = None,
    zones: Sequence[str | None] | None = None,
) -> int:
    """Insert a ``pending`` row for every eligible subscriber without one for this edition,
    copying the address; one ``INSERT ... SELECT`` (no object per subscriber). Returns the
    number of rows inserted. Does not commit.

    Eligible: ``active``, not on the suppression list, on ``frequency`` (the daily one by
    default; for the weekly edition, ``Frequency.WEEKLY`` and the readers whose ``weekday``
    is given, 0 = Monday), and not paused on the edition's local date (``paused_until`` is
    the first date they receive again). With ``zones`` (time-zone waves), only readers whose
    ``timezone`` is one of them (None: readers without one).
    """
    edition_date = session.scalar(select(Edition.date).where(Edition.id == edition_id))
    now = utcnow()
    columns = ["edition_id", "subscriber_id", "email", "status", "attempts", "created_at"]
    already = select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id)
    source = select(
        literal(edition_id),
        Subscriber.id,
        Subscriber.email,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(now, type_=Delivery.__table__.c.created_at.type),
    ).where(
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.id.not_in(already),
        Subscriber.email_key.not_in(select(Suppression.email_key)),
        Subscriber.frequency == frequency,
        Subscriber.weekday == weekday if weekday is not None else true(),
        _in_zones(zones),
        or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= edition_date),
    )
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql_insert(Delivery).from_select(columns, source)
    elif dialect == "sqlite":
        statement = sqlite_insert(Delivery).from_select(columns, source)
    else:  # pragma: no cover - other backends rely on the unique constraint alone
        statement = insert(Delivery).from_select(columns, source)
    if dialect in ("postgresql", "sqlite"):
        # A concurrent release inserting the same rows loses quietly instead of failing.
        statement = statement.on_conflict_do_nothing(index_elements=["edition_id", "subscriber_id"])
    count = select(func.count()).select_from(Delivery).where(Delivery.edition_id == edition_id)
    before = session.scalar(count) or 0
    session.execute(statement)
    # rowcount of INSERT ... SELECT is not reported by every driver (psycopg gives -1).
    return (session.scalar(count) or 0) - before


def _in_zones(zones: Sequence[str | None] | None) -> Any:
    """The condition "the reader's timezone is one of ``zones``" (None: no condition)."""
    if zones is None:
        return true()
    named = [zone for zone in zones if zone is not None]
    either = [Subscriber.timezone.in_(named)] if named else []
    if None in zones:
        either.append(Subscriber.timezone.is_(None))
    return or_(*either) if either else false()


def _claim_statements() -> tuple[Any, Any, Any, Any]:
    """The claim's statements, built once (building and caching a statement costs more
    than running it on SQLite): the candidates (locked on PostgreSQL), the claim by
    candidates' subquery (SQLite) and by primary keys (PostgreSQL), and the claimed
    subscribers' personal fields. Parameters: ``c_edition``, ``c_now``, ``c_limit``,
    ``c_worker``, ``c_ids``."""
    now = bindparam("c_now", type_=Delivery.next_attempt_at.type)
    candidates = (
        select(Delivery.id)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(Edition, Edition.id == Delivery.edition_id)
        .where(
            Edition.status == EditionStatus.SENDING,  # a paused edition gives nothing out
            Delivery.edition_id == bindparam("c_edition"),
            # Literal values, as in the partial index ix_deliveries_claimable: SQLite uses a
            # partial index only when the query repeats its condition with constants.
            CLAIMABLE_CONDITION,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            Subscriber.status == SubscriberStatus.ACTIVE,
            Subscriber.email_key.not_in(select(Suppression.email_key)),
        )
        .order_by(Delivery.id)
        .limit(bindparam("c_limit", type_=Integer))
        .with_for_update(skip_locked=True, of=Delivery)
    )

    def claim(chosen: Any) -> Any:
        return (
            update(Delivery)
            .where(Delivery.id.in_(chosen), Delivery.status.in_(CLAIMABLE))
            .values(
                status=DeliveryStatus.CLAIMED,
                claimed_at=bindparam("c_claimed_at", type_=Delivery.claimed_at.type),
                claimed_by=bindparam("c_worker"),
            )
            .returning(
                Delivery.id,
                Delivery.subscriber_id,
                Delivery.email,
                Delivery.attempts,
                Delivery.first_deferred_at,
            )
            .execution_options(synchronize_session=False)
        )

    people = select(Subscriber.id, Subscriber.name, Subscriber.topics, Subscriber.format).where(
        Subscriber.id.in_(bindparam("c_ids", expanding=True))
    )
    return (
        candidates,
        claim(candidates.scalar_subquery()),
        claim(bindparam("c_ids", expanding=True)),
        people,
    )


_CANDIDATES, _CLAIM_SUBQUERY, _CLAIM_IDS, _CLAIMED_PEOPLE = _claim_statements()


def claim_batch(
    session: Executor, edition_id: int, limit: int, worker: str, *, now: datetime | None = None
) -> list[ClaimedDelivery]:
    """Move up to ``limit`` claimable rows of active subscribers to ``claimed`` by ``worker``
    and return them, in id order. Rows another transaction holds are skipped (PostgreSQL).
    Nothing is handed to a provider yet: a claimed row can always be given back.
    """
    now = now or utcnow()
    connection = connection_of(session)
    params: dict[str, Any] = {
        "c_edition": edition_id, "c_now": now, "c_limit": limit, "c_claimed_at": now,
        "c_worker": worker,
    }  # fmt: skip
    if connection.dialect.name == "sqlite":
        # One statement: SQLite has one writer, and a read that later turns into a write
        # can fail at once (SQLITE_BUSY_SNAPSHOT) when another connection wrote meanwhile.
        claimed = connection.execute(_CLAIM_SUBQUERY, params).all()
    else:
        # Lock the rows first, then update them by primary key: as one statement the planner
        # may hash-join the whole outbox for every claim (seen on PostgreSQL 15).
        chosen: list[int] = list(connection.execute(_CANDIDATES, params).scalars())
        if not chosen:
            return []
        claimed = connection.execute(_CLAIM_IDS, {**params, "c_ids": chosen}).all()
    if not claimed:
        return []
    unknown = (None, "", "html")
    people = {
        row.id: (row.name, ",".join(sorted(row.topics or [])), row.format or "html")
        for row in connection.execute(
            _CLAIMED_PEOPLE, {"c_ids": [row.subscriber_id for row in claimed]}
        )
    }
    claims = []
    for row in claimed:
        name, topics, format_ = people.get(row.subscriber_id, unknown)
        claims.append(
            ClaimedDelivery(
                row.id,
                row.subscriber_id,
                row.email,
                name,
                row.attempts + 1,
                topics,
                format_,
                row.first_deferred_at,
            )
        )
    claims.sort(key=lambda claim: claim.delivery_id)
    return claims


_T = cast(Table, Delivery.__table__)
_S = cast(Table, Subscriber.__table__)
_X = cast(Table, Suppression.__table__)
# Statements built once: this is the hot path (one transaction per provider call), and
# building a statement costs more than running it on SQLite.
_STILL_WANTED = (
    select(literal(1))
    .select_from(_S)
    .where(
        _S.c.id == _T.c.subscriber_id,
        _S.c.status == SubscriberStatus.ACTIVE.value,
        ~select(literal(1)).where(_X.c.email_key == _S.c.email_key).exists(),
    )
    .exists()
)

_MARK_SENDING, _MARK_ONE = (
    update(_T)
    .where(
        key,
        _T.c.status == DeliveryStatus.CLAIMED.value,
        _T.c.claimed_by == bindparam("worker"),
        _STILL_WANTED,  # read by this statement: an unsubscribe committed before it counts
    )
    .values(status=DeliveryStatus.SENDING.value, attempts=_T.c.attempts + 1)
    .returning(_T.c.id)
    # An expanding IN list is rendered again at each call: one row (SMTP) takes "=".
    for key in (_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.id == bindparam("m_id"))
)
_SKIP_CLAIMED = (
    update(_T)
    .where(
        _T.c.id.in_(bindparam("ids", expanding=True)),
        _T.c.status == DeliveryStatus.CLAIMED.value,
        _T.c.claimed_by == bindparam("worker"),
    )
    .values(status=DeliveryStatus.SKIPPED.value, claimed_by=None)
)
_OUTCOME_WHERE = (
    _T.c.id == bindparam("b_id"),
    # Two comparisons, not IN: an IN list is an expanding parameter, which executemany
    # cannot take.
    or_(_T.c.status == DeliveryStatus.SENDING.value, _T.c.status == DeliveryStatus.CLAIMED.value),
)
_COMMON: dict[str, Any] = {
    "status": bindparam("b_status"),
    "provider": bindparam("b_provider"),
    "last_code": bindparam("b_code"),
    "last_error": bindparam("b_error"),
}
_RECORD: dict[DeliveryStatus, Any] = {
    DeliveryStatus.SENT: update(_T)
    .where(*_OUTCOME_WHERE)
    .values(**_COMMON, sent_at=bindparam("b_time"), provider_message_id=bindparam("b_message")),
    DeliveryStatus.DEFERRED: update(_T)
    .where(*_OUTCOME_WHERE)
    .values(
        **_COMMON,
        next_attempt_at=bindparam("b_time"),
        first_deferred_at=func.coalesce(
            _T.c.first_deferred_at, bindparam("b_now", type_=_T.c.first_deferred_at.type)
        ),
    ),
    DeliveryStatus.FAILED: update(_T).where(*_OUTCOME_WHERE).values(**_COMMON),
    DeliveryStatus.SENDING: update(_T).where(*_OUTCOME_WHERE).values(**_COMMON),
}


_PARAMS = {
    statement: {"b_id", "b_status", "b_provider", "b_code", "b_error"}
    | ({"b_time", "b_message"} if status == DeliveryStatus.SENT else set())
    | ({"b_time", "b_now"} if status == DeliveryStatus.DEFERRED else set())
    for status, statement in _RECORD.items()
}


def mark_sending(session: Executor, ids: list[int], worker: str) -> tuple[set[int], int]:
    """Move ``worker``'s claimed rows ``ids`` to ``sending`` (one more attempt) when their
    subscriber is still active and not suppressed, and mark the rows of those who are not
    ``skipped``. Returns (the ids now ``sending``, the number skipped); an id in neither was
    no longer this worker's (given back after its lease). Commit before handing them to the
    provider: that commit is what makes an unsubscribe before it stop the message.

    One ``UPDATE`` by primary key whose condition reads the subscriber (a correlated
    ``EXISTS`` on the subscriber's key and the suppression list's), plus a second one only
    when some row was left out. Does not commit."""
    if not ids:
        return set(), 0
    connection = connection_of(session)
    if len(ids) == 1:
        marked = connection.execute(_MARK_ONE, {"m_id": ids[0], "worker": worker})
    else:
        marked = connection.execute(_MARK_SENDING, {"ids": ids, "worker": worker})
    owned: set[int] = set(marked.scalars())
    skipped = 0
    if len(owned) < len(ids):
        left = [key for key in ids if key not in owned]
        skipped = affected(connection.execute(_SKIP_CLAIMED, {"ids": left, "worker": worker}))
    return owned, skipped


def retry_delay(attempts: int) -> float:
    """Seconds before retrying after ``attempts`` attempts (exponential, capped)."""
    return float(min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def record_outcomes(
    session: Executor, outcomes: Iterable[Outcome], attempts: dict[int, int] | None = None
) -> None:
    """Apply provider outcomes to rows still in ``sending`` (or ``claimed``, for a message
    that could not even be built). ``attempts`` maps a delivery id to its attempt number,
    for the backoff of a deferral (``retry_after`` seconds, when given, replaces it). A
    deferral records ``first_deferred_at`` the first time: the start of the retry window
    after which the worker gives the message up. Does not commit."""
    now = utcnow()
    attempts = attempts or {}
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        when = None
        if outcome.status == DeliveryStatus.SENT:
            when = now
        elif outcome.status == DeliveryStatus.DEFERRED and outcome.retry_at is not None:
            when = outcome.retry_at
        elif outcome.status == DeliveryStatus.DEFERRED:
            delay = outcome.retry_after
            if delay is None:
                delay = retry_delay(attempts.get(outcome.delivery_id, 1))
            when = now + timedelta(seconds=delay)
        params = {
            "b_id": outcome.delivery_id,
            "b_status": outcome.status.value,
            "b_provider": outcome.provider,
            "b_code": outcome.code,
            "b_error": outcome.detail[:2000] if outcome.detail else None,
            "b_time": when,  # the column's UTC type binds it
            "b_now": now,
            "b_message": outcome.provider_message_id,
        }
        statement = _RECORD[DeliveryStatus(outcome.status)]
        wanted = _PARAMS[statement]
        grouped.setdefault(statement, []).append({k: v for k, v in params.items() if k in wanted})
    if grouped:
        connection = connection_of(session)
        for statement, rows in grouped.items():
            # One executemany per kind of outcome (one row: a plain execute, cheaper).
            connection.execute(statement, rows[0] if len(rows) == 1 else rows)


def release_claims(session: Executor, ids: list[int], worker: str) -> None:
    """Give ``worker``'s claimed rows ``ids`` back to ``pending`` (never handed over)."""
    if ids:
        connection_of(session).execute(
            update(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.status == DeliveryStatus.CLAIMED,
                Delivery.claimed_by == worker,
            )
            .values(status=DeliveryStatus.PENDING, claimed_by=None)
            .execution_options(synchronize_session=False)
        )


def return_unsent(session: Executor, ids: list[int]) -> None:
    """Rows marked ``sending`` that the provider reports it never received go back to
    ``pending`` (their attempt does not count)."""
    if ids:
        connection_of(session).execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.PENDING, attempts=Delivery.attempts - 1, claimed_by=None)
            .execution_options(synchronize_session=False)
        )


def worker_owners(session: Session, edition_id: int, status: DeliveryStatus) -> dict[str, int]:
    """Rows per ``claimed_by`` worker in ``status`` for the edition."""
    return {
        owner or "": count
        for owner, count in session.execute(
            select(Delivery.claimed_by, func.count())
            .where(Delivery.edition_id == edition_id, Delivery.status == status)
            .group_by(Delivery.claimed_by)
        )
    }


def reclaim(session: Session, edition_id: int, owners: list[str], stale_before: datetime) -> int:
    """Give claimed (never handed over) rows back to ``pending`` when their worker is among
    the dead ``owners`` or claimed them before ``stale_before``. Always safe: a worker that
    is in fact alive finds the row gone when it tries to mark it ``sending``."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.status == DeliveryStatus.CLAIMED,
            or_(Delivery.claimed_by.in_(owners), Delivery.claimed_at < stale_before),
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def uncertain_rows(session: Session, edition_id: int, owners: list[str]) -> list[tuple[int, str]]:
    """(delivery id, address) of the ``sending`` rows of ``owners`` for the edition."""
    if not owners:
        return []
    return [
        (row.id, row.email)
        for row in session.execute(
            select(Delivery.id, Delivery.email).where(
                Delivery.edition_id == edition_id,
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_by.in_(owners),
            )
        )
    ]


def settle_uncertain(session: Session, answers: dict[int, bool], provider: str) -> None:
    """Apply a provider's answers about uncertain rows: True -> ``sent``, False -> back to
    ``pending`` (the attempt does not count). Only rows still ``sending`` change."""
    now = utcnow()
    for delivered, ids in ((True, [k for k, v in answers.items() if v]),
                           (False, [k for k, v in answers.items() if not v])):  # fmt: skip
        if not ids:
            continue
        values: dict[str, Any] = (
            {"status": DeliveryStatus.SENT, "sent_at": now, "provider": provider}
            if delivered
            else {
                "status": DeliveryStatus.PENDING,
                "claimed_by": None,
                "attempts": Delivery.attempts - 1,
            }
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def requeue_uncertain(session: Session, edition_id: int, owners: list[str]) -> int:
    """Put the ``sending`` rows of dead ``owners`` back to ``pending``: an operator's
    decision to resend messages that may already have been delivered."""
    if not owners:
        return 0
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_by.in_(owners),
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def skip_inactive(session: Session, edition_id: int) -> int:
    """Mark claimable rows of subscribers no longer active as ``skipped``; returns how many."""
    inactive = select(Subscriber.id).where(
        or_(
            Subscriber.status != SubscriberStatus.ACTIVE,
            Subscriber.email_key.in_(select(Suppression.email_key)),
        )
    )
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.status.in_(CLAIMABLE),
            Delivery.subscriber_id.in_(inactive),
        )
        .values(status=DeliveryStatus.SKIPPED)
        .execution_options(synchronize_session=False)
    )
    return affected(result)
