"""Real ``newsletter run`` processes: two replicas on one PostgreSQL send today's edition
once to each reader; a process started ten minutes after the send time still sends it,
once. Mail goes to a real SMTP server (aiosmtpd); the probes answer over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from newsletter.store.models import Delivery, Edition
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.timeutil import utcnow
from newsletter.wiring import App
from tests.conftest import RecordingHandler, free_port, run_cli

CLI = [sys.executable, "-m", "newsletter.cli"]
ZONE = "Africa/Casablanca"
EDITOR = "chef@example.ma"


def prepare(app: App, count: int, send_in: timedelta) -> tuple[list[str], str]:
    """Readers, and the sample articles of the edition whose send time is ``send_in`` from
    now; returns the addresses and the send time (local HH:MM:SS)."""
    zone = app.settings.zone
    send_at = (utcnow() + send_in).astimezone(zone)
    if send_at.date() != (utcnow() + send_in - timedelta(hours=1)).astimezone(zone).date():
        pytest.skip("too close to local midnight for a same-day compose and send")
    addresses = [f"reader{n:03d}@example.org" for n in range(count)]
    with app.sessions.begin() as session:
        for address in addresses:
            add_subscriber(session, SubscriberRecord(address), source="test")
    app.ingest.sample(send_at.date())
    return addresses, f"{send_at:%H:%M:%S}"


def environment(app: App, smtp_port: int, send_time: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": app.settings.effective_database_url,
        "NEWSLETTER_DATA_DIR": str(app.settings.data_dir),
        "NEWSLETTER_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "NEWSLETTER_PROVIDER": "smtp",
        "NEWSLETTER_SMTP_HOST": "127.0.0.1",
        "NEWSLETTER_SMTP_PORT": str(smtp_port),
        "NEWSLETTER_TIMEZONE": ZONE,
        "NEWSLETTER_SEND_TIME": send_time,
        "NEWSLETTER_EDITORS": EDITOR,
        "NEWSLETTER_SCHEDULER_CHECK_SECONDS": "1",
    }


def start(env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "run", "--port", str(port)], env=env, cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_ready(port: int, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if answer.status_code == 200:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                return answer.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("newsletter run never became ready")


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM (a clean stop), then the process's stderr (its JSON log)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return stderr


def received(handler: RecordingHandler, addresses: list[str]) -> Counter[str]:
    return Counter(r for m in handler.messages for r in m.rcpt_tos if r in addresses)


def wait_for(handler: RecordingHandler, addresses: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(received(handler, addresses)) < len(addresses):
        time.sleep(0.2)


def log_events(stderr: str) -> list[dict[str, object]]:
    events = []
    for line in stderr.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_replicas_on_one_postgresql_send_once_to_each_reader(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, smtp_port = smtp_server
    addresses, send_time = prepare(app, 40, timedelta(seconds=12))
    env = environment(app, smtp_port, send_time)
    ports = [free_port(), free_port()]
    processes = [start(env, port, tmp_path) for port in ports]
    logs = []
    try:
        for port, process in zip(ports, processes, strict=True):
            assert wait_ready(port, process)["scheduler"] == "running"
        wait_for(handler, addresses, 120)
        time.sleep(3)  # both replicas' send and check jobs have had their chance
        counts = received(handler, addresses)
    finally:
        logs = [stop(process) for process in processes]
    assert counts == Counter(addresses), logs
    notices = [m for m in handler.messages if m.rcpt_tos == [EDITOR]]
    assert len(notices) == 1, [n.data[:300] for n in notices]  # one notice, no alert
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Edition)) == 1
        assert session.scalar(select(func.count()).select_from(Delivery)) == len(addresses)
    events = [e for log in logs for e in log_events(log)]
    starts = [e for e in events if e.get("event") == "start"]
    assert len(starts) == 2 and all(e["tzdata"] and e["zone_source"] == "tzdata package"
                                    for e in starts)  # fmt: skip
    assert sum(e.get("event") == "sent" for e in events) == 1
    assert sum(e.get("event") == "stop" for e in events) == 2  # SIGTERM: a clean stop


def test_a_run_started_ten_minutes_late_sends_once(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, smtp_port = smtp_server
    addresses, send_time = prepare(app, 5, -timedelta(minutes=10))
    env = environment(app, smtp_port, send_time)
    port = free_port()
    process = start(env, port, tmp_path)
    try:
        wait_ready(port, process)
        wait_for(handler, addresses, 90)
        time.sleep(2)  # the periodic check runs again: nothing more goes out
        counts = received(handler, addresses)
    finally:
        log = stop(process)
    assert counts == Counter(addresses), log
    alerts = [e for e in log_events(log) if e.get("event") == "alert"]
    assert [a["alert"] for a in alerts] == ["late"]
    subjects = [m.data for m in handler.messages if m.rcpt_tos == [EDITOR]]
    assert len(subjects) == 2  # the draft's notice and the late alert


def test_run_refuses_a_database_without_schema_and_bad_settings(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSLETTER_DATA_DIR": str(tmp_path / "var")}
    result = run_cli("run", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert result.returncode == 1 and "newsletter init" in result.stderr
    assert "Traceback" not in result.stderr
    env["NEWSLETTER_EDITORS"] = "not-an-address"
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "NEWSLETTER_EDITORS" in result.stderr
