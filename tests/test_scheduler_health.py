"""/healthz and /readyz (the database reachable and migrated, the scheduler running under
``newsletter run``), and the scheduler's ledger: one winner per action, takeover after a
lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from alembic import command

from newsletter.store.db import alembic_config, make_engine
from newsletter.store.runs import RunKey, claim, finish, runs_of
from newsletter.timeutil import utcnow
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.conftest import free_port
from tests.test_web import TestClient


@dataclass
class FakeRunner:
    """Stands for the scheduler runner: only its ``running`` flag is read."""

    running: bool


def client(app: App, scheduler: FakeRunner | None = None) -> TestClient:
    return TestClient(create_app(app, scheduler=scheduler), base_url="http://localhost:8000")


def test_healthz_and_readyz_on_a_migrated_database(app: App) -> None:
    assert client(app).get("/healthz").json() == {"status": "ok"}
    ready = client(app).get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok" and ready.json()["scheduler"] == "absent"
    running = client(app, FakeRunner(True)).get("/readyz")
    assert running.status_code == 200 and running.json()["scheduler"] == "running"
    stopped = client(app, FakeRunner(False)).get("/readyz")
    assert stopped.status_code == 503 and stopped.json()["scheduler"] == "stopped"
    assert stopped.headers["cache-control"] == "no-store"


def test_readyz_refuses_an_old_schema_and_an_unreachable_database(app: App, tmp_path: Path) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(old), "0002")
    behind = client(App(app.settings, engine=old)).get("/readyz")
    assert behind.status_code == 503
    assert "schema at 0002" in behind.json()["database"]
    gone = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    answer = client(App(app.settings, engine=gone)).get("/readyz")
    assert answer.status_code == 503 and answer.json()["database"].startswith("unreachable")
    assert client(App(app.settings, engine=gone)).get("/healthz").status_code == 200


def test_one_process_wins_each_action_and_a_dead_ones_claim_is_taken_over(app: App) -> None:
    key = RunKey("send", date(2026, 10, 14))
    start = utcnow()
    with app.sessions.begin() as session:
        assert claim(session, key, "host:1:a", lease_seconds=600, now=start)
    with app.sessions.begin() as session:
        assert not claim(session, key, "host:2:b", lease_seconds=600, now=start)
        assert not claim(session, key, "host:2:b", lease_seconds=None,
                         now=start + timedelta(hours=1))  # fmt: skip
        # the first owner died: after the lease, another takes the action over
        assert claim(session, key, "host:2:b", lease_seconds=600,
                     now=start + timedelta(seconds=601))  # fmt: skip
    with app.sessions.begin() as session:
        finish(session, key, "host:2:b", "done", "sent=3")
    with app.sessions.begin() as session:  # a finished action is never done again
        assert not claim(session, key, "host:3:c", lease_seconds=1,
                         now=start + timedelta(days=1))  # fmt: skip
        row = runs_of(session, key.day)["send"]
    assert (row.owner, row.outcome, row.detail) == ("host:2:b", "done", "sent=3")
    other = RunKey("send", key.day, "weekly")  # the weekly edition's actions are separate
    with app.sessions.begin() as session:
        assert claim(session, other, "host:3:c", now=start)
