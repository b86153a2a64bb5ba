"""Engine, sessions and schema migration (Alembic)."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Result,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = "newsletter.store:migrations"

#: What a named query of the delivery's hot path runs on: a session, or a bare connection (a
#: worker's drain loop commits once per provider call and skips the ORM's bookkeeping, which
#: costs more than the statements themselves on SQLite).
Executor = Session | Connection
_E = TypeVar("_E", Session, Connection)


class DatabaseError(NewsletterError):
    """The database cannot be opened or is not migrated; the message says what to do."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (any SQLAlchemy URL; ``postgresql://`` uses psycopg 3).

    SQLite files get their directory created, WAL journalling (readers do not block the
    writer), ``synchronous=NORMAL``, foreign keys on, and a 30 s busy timeout.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(parsed, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any exception."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config  # Alembic is loaded only by what migrates

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> str | None:
    """Create or upgrade the schema to the newest revision; safe to repeat.

    Returns the revision now in place. Raises :class:`DatabaseError` when the database
    cannot be reached.
    """
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as connection:
            return _current_revision(connection)
    except Exception as exc:  # the driver's errors are many; report them in one shape
        if isinstance(exc, DatabaseError):
            raise
        raise DatabaseError(f"cannot migrate {engine.url.render_as_string()}: {exc}") from exc


def _current_revision(connection: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise :class:`DatabaseError` unless the schema exists (``newsletter init`` was run).

    Never creates anything: an SQLite file that does not exist is reported, not made.
    """
    url = engine.url
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, ":memory:")
    if sqlite_file and not Path(str(url.database)).is_file():
        raise DatabaseError(
            f"no database at {url.database}: run `newsletter init` first "
            "(or set NEWSLETTER_DATABASE_URL)"
        )
    try:
        tables = set(inspect(engine).get_table_names())
    except Exception as exc:
        raise DatabaseError(f"cannot open {engine.url.render_as_string()}: {exc}") from exc
    if "alembic_version" not in tables:
        raise DatabaseError("the database has no schema yet: run `newsletter init` first")


def fresh_schema_url(url: str, prefix: str = "nl") -> str:
    """Create a new, empty schema on the PostgreSQL server of ``url`` and return ``url`` with
    its ``search_path`` set to it: an isolated database for a test or a benchmark run."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


#: One lock per SQLite engine, taken by :func:`step` (see there).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_LOCK = threading.Lock()


def _writer_lock(executor: Executor) -> threading.RLock | None:
    """The lock of ``executor``'s engine when it is SQLite's, else None."""
    bind = executor.engine if isinstance(executor, Connection) else executor.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return None
    with _SQLITE_WRITERS_LOCK:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.RLock()
        return lock


@contextmanager
def step(session: _E) -> Iterator[_E]:
    """One transaction on a long-lived ``session`` or connection (a worker's loop keeps one
    and commits each step): committed when the block ends, rolled back on any exception
    (``BaseException`` too, e.g. KeyboardInterrupt), which then propagates.

    On SQLite the threads of this process take their steps one at a time, queueing on a
    lock of the engine: SQLite has one writer, and a connection that finds the database
    locked waits in its busy handler, which polls with sleeps of 1 ms and more (sqlite3.c,
    ``sqliteDefaultBusyCallback``), longer than a step takes. Several SMTP connections'
    threads then hand each other the database at once instead."""
    lock = _writer_lock(session)
    with lock if lock is not None else nullcontext():
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def connection_of(executor: Executor) -> Connection:
    """The connection ``executor`` runs on (a session's, in its current transaction)."""
    return executor if isinstance(executor, Connection) else executor.connection()


@contextmanager
def hot_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A connection of ``factory``'s engine for a loop of short transactions (:func:`step`).

    Durability: every commit on it is synchronous, on PostgreSQL too. The drain's commits
    mark messages ``sending`` right before they are handed over; an asynchronous commit
    (``synchronous_commit = off``) lost in a database crash would turn them back into
    ``claimed`` rows that the next run resends, although they had left: a message twice.
    The only commits whose loss would be harmless (a claim, answers recorded without a
    mark) are followed by a synchronous one that flushes the log up to it anyway, so
    nothing would be gained. SQLite runs in WAL with ``synchronous=NORMAL`` (see
    :func:`make_engine`): a commit survives the process's death, only a power cut can lose
    the last ones."""
    with factory() as session:
        bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as connection:
        yield connection


@contextmanager
def session_on(connection: Connection) -> Iterator[Session]:
    """An ORM session inside ``connection``'s current transaction, for a rare write of the
    hot path that the ORM makes (it flushes at the end, never commits nor rolls back)."""
    with Session(bind=connection) as session:  # joins the transaction, never commits it
        yield session
        session.flush()


def affected(result: Result[Any]) -> int:
    """Rows an ``UPDATE`` or ``DELETE`` matched (0 when the driver does not say). A DML
    statement's result is a ``CursorResult``; the ORM's ``Session.execute`` is typed as
    returning the base ``Result``, so the cast is where the two meet."""
    return cast(CursorResult[Any], result).rowcount or 0
