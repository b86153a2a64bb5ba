"""Shared fixtures: isolated settings, real databases (SQLite, PostgreSQL), a real SMTP
server (aiosmtpd), the real feeds of ../shared/data when present, and the command line run
in-process (``run_cli``).

PostgreSQL: ``NEWSLETTER_TEST_DATABASE_URL`` names the database to use. Without it, a
throwaway database is created on the local server (127.0.0.1:5432, user postgres) when it
answers, and dropped at the end of the session; where no server answers, the PostgreSQL
tests are deselected and one line of the summary says how many."""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import Engine, event

from newsletter.config.settings import Settings, load_settings
from newsletter.store.db import fresh_schema_url, make_engine, migrate
from newsletter.wiring import App

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT.parent / "shared" / "data" / "feeds"
PG_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")
#: The local server tried when NEWSLETTER_TEST_DATABASE_URL is unset (trust authentication).
LOCAL_PG_HOST, LOCAL_PG_PORT, LOCAL_PG_USER = "127.0.0.1", 5432, "postgres"
SECRET = "test-secret-key-0123456789abcdef"


def feed(name: str) -> Path:
    """Path of a real feed in ../shared/data/feeds; skips the test where it is absent."""
    path = FEEDS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/data is not beside this checkout)")
    return path


#: The newsroom's postal address in tests (the shipped one is an example send refuses).
POSTAL_ADDRESS = "Le Brief, 12 rue des Tests, 20250 Casablanca, Maroc"


def isolate(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """No NEWSLETTER_* variable from outside leaks in; the working directory is ``folder``
    (empty), the data directory ``folder/var``."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NEWSLETTER_DATA_DIR", str(folder / "var"))
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET)
    # a real list is never mailed with the example postal address (tests/test_report.py)
    monkeypatch.setenv("NEWSLETTER_POSTAL_ADDRESS", POSTAL_ADDRESS)
    return folder


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NEWSLETTER_* variable from outside leaks in; the working directory is empty."""
    return isolate(monkeypatch, tmp_path)


# --- PostgreSQL: the given database, or a throwaway one on the local server ---------------
def _local_admin_conninfo() -> str:
    return (
        f"host={LOCAL_PG_HOST} port={LOCAL_PG_PORT} user={LOCAL_PG_USER} dbname=postgres "
        "connect_timeout=3"
    )


def _local_server_problem() -> str | None:
    """Why the local PostgreSQL server cannot be used (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(_local_admin_conninfo(), autocommit=True):
            return None
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines()  # "connection ... failed: Connection refused"
        return lines[0].rsplit("failed: ", 1)[-1] if lines else type(exc).__name__


def _is_postgres_test(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
    return on_postgres or item.get_closest_marker("postgres") is not None


_NOT_RUN = pytest.StashKey[tuple[int, str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL tests; without NEWSLETTER_TEST_DATABASE_URL and with no local
    server, deselect them (one summary line instead of one skip per test)."""
    postgres = [item for item in items if _is_postgres_test(item)]
    for item in postgres:
        item.add_marker(pytest.mark.postgres)
    if PG_URL or not postgres:
        return
    problem = _local_server_problem()
    if problem is None:
        return
    config.hook.pytest_deselected(items=postgres)
    chosen = set(postgres)
    items[:] = [item for item in items if item not in chosen]
    config.stash[_NOT_RUN] = (len(postgres), problem)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    not_run = terminalreporter.config.stash.get(_NOT_RUN, None)
    if not_run:
        count, problem = not_run
        terminalreporter.write_line(
            f"PostgreSQL not reachable at {LOCAL_PG_HOST}:{LOCAL_PG_PORT} ({problem}): "
            f"{count} PostgreSQL tests not run (set NEWSLETTER_TEST_DATABASE_URL to choose "
            "a server)",
            yellow=True,
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """NEWSLETTER_TEST_DATABASE_URL, or a uniquely named database on the local server,
    created for this session and dropped at its end (whatever the tests' outcome)."""
    if PG_URL:
        yield PG_URL
        return
    import psycopg

    name = f"newsletter_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_local_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{LOCAL_PG_USER}@{LOCAL_PG_HOST}:{LOCAL_PG_PORT}/{name}"
    finally:
        # DROP DATABASE waits for a checkpoint of the whole server (PostgreSQL 15): seconds
        # on a busy one. A detached process drops it while pytest reports and exits. FORCE:
        # a process a test killed (or an engine not disposed) may still hold a connection.
        subprocess.Popen(
            [sys.executable, "-c", _DROP, _local_admin_conninfo(), name],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


_DROP = """import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as admin:
    admin.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on SQLite (a file) and on PostgreSQL (its own schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'test.db'}"
    if "app" in request.fixturenames:  # the app fixture migrates it at once: take one ready
        return request.getfixturevalue("migrated_schemas").take()
    return fresh_schema_url(request.getfixturevalue("postgres_url"), prefix="t")


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on the parametrised database (environment, as an operator would set it)."""
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    return load_settings()


class MigratedTemplates:
    """The migrated schema, made once per session and backend, copied for each test.

    Migrating costs a test 0.1 s (SQLite) to 0.5 s (PostgreSQL) of Alembic; a copy costs a
    fraction. SQLite: a migrated template file, copied with SQLite's backup API.
    PostgreSQL: the statements the first migration executed (recorded as it ran), replayed
    in one transaction in each test's new schema; the result is the same tables, indexes and
    ``alembic_version``. Any other database, or a migration with bound parameters, is
    simply migrated."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_template: Path | None = None
        self.postgres_script: str | None = None
        self.postgres_recorded = False
        #: URLs whose schema a MigratedSchemas thread has already migrated.
        self.premigrated: set[str] = set()

    def migrated_engine(self, url: str) -> Engine:
        """An engine on ``url``, whose database now holds the migrated schema."""
        engine = make_engine(url)
        backend = engine.url.get_backend_name()
        if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._copy_sqlite(Path(str(engine.url.database)))
        elif backend == "postgresql" and self.postgres_recorded:
            if self.postgres_script is None:
                migrate(engine)
            else:
                connection = engine.raw_connection()
                try:
                    connection.cursor().execute(self.postgres_script)
                    connection.commit()
                finally:
                    connection.close()
        elif backend == "postgresql":
            self._record_postgres(engine)
        else:
            migrate(engine)
        return engine

    def _copy_sqlite(self, target: Path) -> None:
        if self.sqlite_template is None:
            template = self.folder / "template.db"
            engine = make_engine(f"sqlite:///{template}")
            migrate(engine)
            engine.dispose()
            self.sqlite_template = template
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            closing(sqlite3.connect(self.sqlite_template)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)

    def _record_postgres(self, engine: Engine) -> None:
        statements: list[str] = []
        replayable = True

        def record(
            _conn: object, _cursor: object, statement: str, parameters: object, *_: object
        ) -> None:
            nonlocal replayable
            if statement.lstrip().upper().startswith("SELECT"):
                return  # reads change nothing
            if parameters:
                replayable = False
            statements.append(statement.strip())

        event.listen(engine, "before_cursor_execute", record)
        try:
            migrate(engine)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        self.postgres_script = ";\n".join(statements) if replayable and statements else None
        self.postgres_recorded = True


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> MigratedTemplates:
    return MigratedTemplates(tmp_path_factory.mktemp("migrated"))


class MigratedSchemas:
    """PostgreSQL schemas created and migrated ahead of the tests that need one, by a
    background thread (the server works while a test runs): a few are kept ready."""

    def __init__(self, base_url: str, templates: MigratedTemplates, ready: int = 3) -> None:
        self.base_url, self.templates = base_url, templates
        self.ready: queue.Queue[str] = queue.Queue(maxsize=ready)
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._fill, name="migrated-schemas", daemon=True)
        self.thread.start()

    def _fill(self) -> None:
        try:
            while not self.stopping.is_set():
                url = fresh_schema_url(self.base_url, prefix="t")
                self.templates.migrated_engine(url).dispose()
                self.templates.premigrated.add(url)
                while not self.stopping.is_set():
                    try:
                        self.ready.put(url, timeout=0.5)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # reported by take(), in the test's own thread
            self.failure = exc

    def take(self) -> str:
        """The URL of a migrated schema no other test has."""
        while True:
            try:
                return self.ready.get(timeout=1)
            except queue.Empty:
                if self.failure is not None or not self.thread.is_alive():
                    raise RuntimeError("preparing PostgreSQL schemas failed") from self.failure

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def migrated_schemas(
    postgres_url: str, migrated_templates: MigratedTemplates
) -> Iterator[MigratedSchemas]:
    schemas = MigratedSchemas(postgres_url, migrated_templates)
    yield schemas
    schemas.close()


@pytest.fixture
def app(settings: Settings, migrated_templates: MigratedTemplates) -> Iterator[App]:
    """An application with a migrated database."""
    url = settings.effective_database_url
    if url in migrated_templates.premigrated:
        engine = make_engine(url)
    else:
        engine = migrated_templates.migrated_engine(url)
    application = App(settings, engine=engine)
    yield application
    application.engine.dispose()


# --- a real SMTP server ----------------------------------------------------------------------
@dataclass
class Received:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: object


@dataclass
class RecordingHandler:
    """aiosmtpd handler that stores messages and can refuse chosen recipients. It offers
    PIPELINING (RFC 2920) as Postfix does, unless ``pipelining`` is False; aiosmtpd reads
    the commands in order either way."""

    messages: list[Received] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)  # address -> code, text
    connections: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pipelining: bool = True

    async def handle_EHLO(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope,
        hostname: str, responses: list[str],
    ) -> list[str]:  # fmt: skip
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope,
        address: str, rcpt_options: list[str],
    ) -> str:  # fmt: skip
        if address in self.refuse:
            code, reason = self.refuse[address]
            return f"{code} {reason}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope
    ) -> str:
        with self.lock:
            self.connections.add(id(session))
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or b"",
                    session.peer,
                )
            )
            count = len(self.messages)
        return f"250 2.0.0 Ok: queued as TEST{count:05d}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on a free loopback port, while the block runs: (handler, port)."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), decode_data=False)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on a free loopback port; yields (handler, port)."""
    with running_smtp_server() as server:
        yield server


# --- the command line, in-process ------------------------------------------------------------
@dataclass
class CliResult:
    """What a run of ``newsletter ...`` showed: like ``subprocess.CompletedProcess``."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    input: str | None = None,
    check: bool = False,
) -> CliResult:
    """Run ``newsletter ARGS`` in this process, as the console script does (its entry point,
    ``newsletter.cli:main``: exit statuses, ``error: ...`` lines), and return its exit status,
    standard output and standard error.

    ``env`` replaces the whole environment for the run (as ``subprocess.run(env=...)``); the
    working directory, the environment, the SIGINT/SIGTERM handlers, the root logger's
    handlers and level, and ``sys.excepthook`` are restored afterwards, and the database
    engines the command opened are disposed (no connection outlives the run). ``check``
    fails on a non-zero exit status, as ``subprocess.run(check=True)`` raises."""
    from typer.testing import CliRunner

    from newsletter.cli import main

    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_hook = sys.excepthook
    saved_signals = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    engines: dict[int, Engine] = {}

    def opened(connection: object) -> None:
        engine = connection.engine  # type: ignore[attr-defined]
        engines[id(engine)] = engine

    event.listen(Engine, "engine_connect", opened)
    returncode = 0
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = ["newsletter", *args]
        with CliRunner().isolation(input=input) as (stdout, stderr, _):
            try:
                main()
            except SystemExit as exc:
                if exc.code is None:
                    returncode = 0
                elif isinstance(exc.code, int):
                    returncode = exc.code
                else:  # sys.exit("message"): Python prints it and exits 1
                    print(exc.code, file=sys.stderr)
                    returncode = 1
            except Exception:  # what the interpreter does with an uncaught exception
                traceback.print_exc(file=sys.stderr)
                returncode = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            out, err = stdout.getvalue(), stderr.getvalue()
    finally:
        event.remove(Engine, "engine_connect", opened)
        for engine in engines.values():
            engine.dispose()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for signum, handler in saved_signals.items():
            signal.signal(signum, handler)
        sys.excepthook = saved_hook
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    result = CliResult(
        ["newsletter", *args],
        returncode,
        out.decode("utf-8", "replace").replace("\r\n", "\n"),
        err.decode("utf-8", "replace").replace("\r\n", "\n"),
    )
    if check and returncode:
        raise AssertionError(f"{result.args} exited {returncode}: {result.stderr}")
    return result
