"""``newsletter articles list``: what was gathered, as JSON and as a table, in process."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import CliResult, run_cli

KEYS = ["id", "url", "title", "published_at", "source", "section", "language"]


def run(*args: str, cwd: Path) -> CliResult:
    env = {**os.environ, "NEWSLETTER_TIMEZONE": "Europe/Paris"}
    return run_cli(*args, cwd=cwd, env=env)


def item(title: str, date: str | None, category: str | None = None) -> str:
    return (
        f"<item><title>{title}</title><link>https://news.example/{title.lower()}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + (f"<category>{category}</category>" if category else "")
        + "</item>"
    )


def ingest(tmp_path: Path, *items: str) -> Path:
    path = tmp_path / "feed.rss"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Le Site</title>'
        f"<language>fr</language>{''.join(items)}</channel></rss>",
        encoding="utf-8",
    )
    assert run("init", cwd=tmp_path).returncode == 0
    result = run("ingest", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return path


def test_articles_since_a_local_time_as_json_and_as_a_table(tmp_path: Path) -> None:
    path = ingest(
        tmp_path,
        item("Lundi", "Mon, 30 Nov 2026 07:30:00 CET", "politique"),
        item("Dimanche", "2026/11/29 10:00:00", "sport"),
        item("Samedi", "Sat, 28 Nov 2026 10:00:00 +0000"),
    )
    # 07:30 without an offset is Paris time: 06:30 UTC, the first article's own instant
    listed = run("articles", "list", "--since", "2026-11-29T10:00", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [list(row) for row in rows] == [KEYS, KEYS]
    assert [(r["title"], r["published_at"], r["section"]) for r in rows] == [
        ("Lundi", "2026-11-30T06:30:00+00:00", "politique"),
        ("Dimanche", "2026-11-29T09:00:00+00:00", "sport"),  # Paris wall time, +01:00
    ]
    assert rows[0]["url"] == "https://news.example/lundi"
    assert (rows[0]["source"], rows[0]["language"]) == (str(path), "fr")
    assert isinstance(rows[0]["id"], int)
    later = run("articles", "list", "--since", "2026-11-30T07:30:01+01:00", "--json", cwd=tmp_path)
    assert json.loads(later.stdout) == []

    table = run("articles", "list", "--since", "2026-11-28", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "2026-11-30 07:30" in lines[0] and "politique" in lines[0] and "Lundi" in lines[0]
    assert "Le Site" in lines[0] and "Samedi" in lines[2] and "11:00" in lines[2]
    assert lines[-1] == "3 articles published since 2026-11-28T00:00+01:00"


def test_articles_of_the_last_48_hours_by_default(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ingest(
        tmp_path,
        item("Recent", format_datetime(now - timedelta(hours=1))),
        item("Old", format_datetime(now - timedelta(hours=72))),
        item("Ahead", format_datetime(now + timedelta(days=2))),  # a feed's clock error
    )
    rows = json.loads(run("articles", "list", "--json", cwd=tmp_path).stdout)
    assert [r["title"] for r in rows] == ["Ahead", "Recent"]
    assert rows[1]["published_at"] == (now - timedelta(hours=1)).isoformat()
    table = run("articles", "list", cwd=tmp_path).stdout.splitlines()
    ahead = next(line for line in table if "Ahead" in line)
    assert "~" in ahead  # the time first seen, not the source's
    assert table[-1].startswith("2 articles published since ")


def test_a_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    result = run("articles", "list", "--since", "hier", cwd=tmp_path)
    assert result.returncode == 2 and "--since: expected an ISO date-time" in result.stderr
