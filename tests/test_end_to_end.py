"""The issue's "Done when", through the real console script: real feeds in, a budgeted
edition out, delivered over SMTP to a real server exactly once per active subscriber."""

from __future__ import annotations

import json
import os
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.conftest import CliResult, RecordingHandler, feed, run_cli


def run(*args: str, env: dict[str, str], check: bool = True) -> CliResult:
    result = run_cli(*args, env=env)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "NEWSLETTER_DATABASE_URL": database_url}


def test_real_day_composed_and_sent_once_over_smtp(
    env: dict[str, str], smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, port = smtp_server
    telquel, jeune = feed("fr_telquel_ma_regenerated.rss"), feed("fr_jeuneafrique_regenerated.rss")
    run("init", env=env)
    ingested = run("ingest", str(telquel), str(jeune), env=env)
    assert "10 new" in ingested.stdout
    subscribers = tmp_path / "subscribers.csv"
    subscribers.write_text(
        "email,name,topics\n"
        "helene@example.org,Hélène Benjelloun,politique\n"
        "youssef@example.org,Youssef El Amrani,\n"
        "broken-address,Nobody,\n"
        'zineb@example.org,Zineb Aït Ali,"sport,culture"\n'
        "gone@example.org,,\n",
        encoding="utf-8",
    )
    imported = run("subscribers", "import", str(subscribers), env=env)
    assert "4 new" in imported.stdout and "line 4" in imported.stderr
    run("subscribers", "add", "late@example.org", "--name", "Marc Lefèvre", env=env)
    listed = json.loads(run("subscribers", "list", "--json", env=env).stdout)
    assert len(listed) == 5

    composed = json.loads(run("compose", "--date", "2026-03-25", "--json", env=env).stdout)
    assert set(composed) == {"edition", "items", "variants", "dropped"}
    for dropped in composed["dropped"]:
        assert set(dropped) - {"of", "on"} == {"article_id", "url", "title", "reason"}
    assert set(composed["edition"]) == {
        "date",
        "status",
        "subject",
        "preheader",
        "reading_seconds",
        "budget_seconds",
    }
    edition = composed["edition"]
    assert edition["date"] == "2026-03-25" and edition["status"] == "draft"
    assert composed["items"] and 0 < edition["reading_seconds"] <= edition["budget_seconds"] == 300
    contract = {"article_id", "url", "title", "category", "summary", "reading_seconds", "score"}
    for item in composed["items"]:
        assert set(item) == contract | {"score_parts", "also", "pinned", "kind"}
        assert item["kind"] in {"news", "live", "opinion", "podcast", "gallery", "listicle",
                                "series"}  # fmt: skip
        assert item["score_parts"]["total"] == item["score"]
    topics = sorted(tuple(v["topics"]) for v in composed["variants"])
    assert topics == [("culture", "sport"), ("politique",)]
    preview = run("preview", "--date", "2026-03-25", "--out", str(tmp_path / "preview"), env=env)
    html_path, text_path = preview.stdout.split()
    assert Path(html_path).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert composed["items"][0]["url"] in Path(text_path).read_text(encoding="utf-8")

    smtp_env = {**env, "NEWSLETTER_PROVIDER": "smtp", "NEWSLETTER_SMTP_HOST": "127.0.0.1",
                "NEWSLETTER_SMTP_PORT": str(port)}  # fmt: skip
    first = run("send", "--date", "2026-03-25", env=smtp_env)
    assert "sent 5, failed 0" in first.stdout
    assert len(handler.messages) == 5
    recipients = [rcpt for message in handler.messages for rcpt in message.rcpt_tos]
    assert sorted(recipients) == sorted(s["email"] for s in listed)
    for received in handler.messages:
        message = message_from_bytes(received.data, policy=policy.default)
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]
        assert str(message["Subject"]) == edition["subject"]
        assert message["List-Unsubscribe"].startswith("<http") and message["List-Unsubscribe-Post"]
        text = message.get_payload()[0].get_content()
        # each item's link goes through the click redirect (tests/test_clicks.py)
        assert text.count("http://localhost:8000/r/") >= len(composed["items"])
    second = run("send", "--date", "2026-03-25", env=smtp_env)
    assert "sent 0" in second.stdout and len(handler.messages) == 5
    status = json.loads(run("status", "--date", "2026-03-25", "--json", env=env).stdout)
    assert (status["sent"], status["pending"], status["sending"], status["edition_status"]) == (
        5,
        0,
        0,
        "sent",
    )
    locked = run("compose", "--date", "2026-03-25", "--json", env=env)
    assert (
        json.loads(locked.stdout)["edition"]["status"] == "sent"
        and "never changed" in locked.stderr
    )


def test_every_source_failing_exits_1_and_one_failing_exits_0(
    env: dict[str, str], tmp_path: Path
) -> None:
    run("init", env=env)
    junk = tmp_path / "junk.xml"
    junk.write_text("<html>not a feed</html>")
    failed = run("ingest", str(junk), "/nonexistent.rss", env=env, check=False)
    assert failed.returncode == 1
    assert "junk.xml: FAILED: not a feed" in failed.stdout and "no such file" in failed.stdout
    mixed = run("ingest", str(junk), str(feed("fr_france24_fr.rss")), env=env, check=False)
    assert mixed.returncode == 0 and "30 new" in mixed.stdout
