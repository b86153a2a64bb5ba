"""The command line as a user meets it: the demo, settings errors, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from tests.conftest import ROOT

CLI = [sys.executable, "-m", "newsletter.cli"]


def run(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **extra}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_leaves_one_message_per_sample_subscriber_and_runs_again_safely(
    tmp_path: Path,
) -> None:
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sample = (
        (ROOT / "newsletter" / "sample" / "subscribers.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    expected = sorted(line.split(",")[0].lower() for line in sample[1:] if line.strip())
    files = sorted((tmp_path / "var" / "outbox").rglob("*.eml"))
    assert len(files) == len(expected) == 6
    recipients = sorted(
        message_from_bytes(f.read_bytes(), policy=policy.default)["To"]
        .addresses[0]
        .addr_spec.lower()
        for f in files
    )
    assert recipients == expected
    assert "6 messages in" in result.stdout
    again = run("demo", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "sent 0" in again.stdout and len(list((tmp_path / "var" / "outbox").rglob("*.eml"))) == 6


def test_a_wrong_setting_stops_with_its_name(tmp_path: Path) -> None:
    result = run("compose", cwd=tmp_path, NEWSLETTER_TIMEZONE="Africa/Atlantis")
    assert result.returncode == 2
    assert "NEWSLETTER_TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_commands_before_init_and_bad_dates_explain_themselves(tmp_path: Path) -> None:
    before = run("compose", cwd=tmp_path)
    assert before.returncode == 1 and "newsletter init" in before.stderr
    assert run("init", cwd=tmp_path).returncode == 0
    bad = run("compose", "--date", "25/03/2026", cwd=tmp_path)
    assert bad.returncode == 2 and "--date" in bad.stderr
    none = run("preview", "--date", "2020-01-01", cwd=tmp_path)
    assert none.returncode == 1 and "no edition" in none.stderr
    empty = run("send", "--date", "2020-01-01", cwd=tmp_path)
    assert empty.returncode == 1 and "no items" in empty.stderr
    invalid = run("subscribers", "add", "not-an-address", cwd=tmp_path)
    assert invalid.returncode == 2 and "invalid address" in invalid.stderr
