"""The command line as a user meets it: the demo, settings errors, usage errors."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from tests.conftest import ROOT, CliResult, run_cli


def run(*args: str, cwd: Path, **extra: str) -> CliResult:
    return run_cli(*args, cwd=cwd, env={**os.environ, **extra})


def run_process(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """The command as a real process (the smoke test of the entry point itself)."""
    env = {**os.environ, **extra}
    return subprocess.run(
        [sys.executable, "-m", "newsletter.cli", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_demo_leaves_one_message_per_sample_subscriber_and_runs_again_safely(
    tmp_path: Path,
) -> None:
    result = run_process("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sample = (
        (ROOT / "newsletter" / "sample" / "subscribers.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    expected = sorted(line.split(",")[0].lower() for line in sample[1:] if line.strip())
    files = sorted((tmp_path / "var" / "demo" / "outbox").rglob("*.eml"))
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
    assert (
        "sent 0" in again.stdout
        and len(list((tmp_path / "var" / "demo" / "outbox").rglob("*.eml"))) == 6
    )
    # the same sample articles, not republished with the clock
    assert re.search(r"sample articles: 0 new, 0 updated, \d+ unchanged", again.stdout), (
        again.stdout
    )


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


def test_editor_commands_pin_exclude_move_and_set(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>{word}</title>"
        f"<link>https://news.example/{n}</link><category>{category}</category>"
        f"<description>Un résumé de l’article {n}. Il a deux phrases.</description>"
        f"<pubDate>Tue, 24 Mar 2026 {10 + n % 10}:00:00 +0000</pubDate></item>"
        for n, (word, category) in enumerate(
            zip(
                [
                    "Le Parlement adopte la loi de finances",
                    "Le Raja remporte le derby casablancais",
                    "Festival de Marrakech : le jury dévoilé",
                    "Bank Al-Maghrib maintient son taux directeur",
                    "Sommet de l’Union africaine à Addis-Abeba",
                    "Réforme des retraites : les syndicats reçus",
                    "Botola : la RS Berkane creuse l’écart",
                    "Gnaoua : la programmation annoncée",
                    "Phosphates : exportations en hausse",
                    "Migrations : accord entre Rabat et Madrid",
                ],
                ["politique", "sport", "culture", "economie", "monde"] * 2,
                strict=True,
            )
        )
    )
    feed_file = tmp_path / "feed.rss"
    feed_file.write_text(f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>')
    assert run("init", cwd=tmp_path).returncode == 0
    assert run("ingest", str(feed_file), cwd=tmp_path).returncode == 0

    def compose() -> dict:
        result = run("compose", "--date", "2026-03-25", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    ids = [item["article_id"] for item in compose()["items"]]
    last = ids[-1]
    moved = run("edition", "move", str(last), "1", "--date", "2026-03-25", cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert compose()["items"][0]["article_id"] == last
    excluded = run("edition", "exclude", str(ids[0]), "--date", "2026-03-25", cwd=tmp_path)
    assert excluded.returncode == 0
    assert ids[0] not in [i["article_id"] for i in compose()["items"]]
    subject = run(
        "edition",
        "set",
        "--subject",
        "Le Brief : l’essentiel",
        "--date",
        "2026-03-25",
        cwd=tmp_path,
    )
    assert subject.returncode == 0
    document = compose()
    assert document["edition"]["subject"] == "Le Brief : l’essentiel"
    assert document["items"][0]["article_id"] == last and document["items"][0]["pinned"]
    for command in ("pin", "exclude", "move"):
        extra = ["1"] if command == "move" else []
        unknown = run("edition", command, "999", *extra, "--date", "2026-03-25", cwd=tmp_path)
        assert unknown.returncode == 1 and "no article #999" in unknown.stderr, command


def test_demo_never_touches_a_real_list(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'real.db'}"
    assert run("init", cwd=tmp_path, NEWSLETTER_DATABASE_URL=database).returncode == 0
    added = run(
        "subscribers", "add", "real@example.org", cwd=tmp_path, NEWSLETTER_DATABASE_URL=database
    )
    assert added.returncode == 0
    refused = run("demo", cwd=tmp_path, NEWSLETTER_DATABASE_URL=database)
    assert refused.returncode == 1 and "only runs on an empty or demo database" in refused.stderr
    assert not (tmp_path / "var" / "outbox").exists()
    alone = run("demo", cwd=tmp_path)  # without the variable: its own database
    assert alone.returncode == 0 and "var/demo" in alone.stdout
    listed = run("subscribers", "list", "--json", cwd=tmp_path, NEWSLETTER_DATABASE_URL=database)
    assert [s["email"] for s in json.loads(listed.stdout)] == ["real@example.org"]


def test_bad_input_never_shows_a_traceback(tmp_path: Path) -> None:
    before = run("subscribers", "list", cwd=tmp_path)
    assert before.returncode == 1 and "newsletter init" in before.stderr
    assert not (tmp_path / "var" / "newsletter.db").exists()  # nothing created by mistake
    assert run("init", cwd=tmp_path).returncode == 0
    cases = [
        (["compose", "--date", "2026-02-30"], 2, "not a date of the calendar"),
        (["compose", "--date", "0001-01-01"], 2, "out of range"),
        (["ingest", "http://[::1"], 1, "cannot fetch"),
        (["ingest", "ftp://example.org/feed"], 1, "unsupported scheme"),
        (["subscribers", "unsubscribe", "nobody@example.org"], 1, "no subscriber"),
    ]
    for args, code, message in cases:
        result = run(*args, cwd=tmp_path)
        assert (result.returncode, "Traceback" in result.stderr) == (code, False), (args, result)
        assert message in result.stdout + result.stderr, (args, result.stderr)
    broken = run("init", cwd=tmp_path, NEWSLETTER_DATABASE_URL="notaurl")
    assert broken.returncode == 2 and "NEWSLETTER_DATABASE_URL" in broken.stderr
    typo = run("subscribers", "list", cwd=tmp_path, NEWSLETTER_TIMEZON="Europe/Paris")
    assert typo.returncode == 0 and "NEWSLETTER_TIMEZON is not a setting" in typo.stderr
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    unwritable = run("init", cwd=tmp_path, NEWSLETTER_DATA_DIR=str(blocked / "var"))
    assert unwritable.returncode != 0 and "Traceback" not in unwritable.stderr
    assert "error:" in unwritable.stderr


def test_unsubscribe_from_the_command_line(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    assert run("subscribers", "add", "Reader@Example.org", cwd=tmp_path).returncode == 0
    result = run("subscribers", "unsubscribe", "reader@example.org", cwd=tmp_path)
    assert result.returncode == 0 and "unsubscribed Reader@example.org" in result.stdout
    listed = json.loads(run("subscribers", "list", "--json", cwd=tmp_path).stdout)
    assert listed[0]["status"] == "unsubscribed"


def test_editor_commands_refuse_what_cannot_work(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.rss"
    items = "".join(
        f"<item><title>{title}</title><link>https://news.example/{n}</link>"
        f"<pubDate>Tue, 24 Mar 2026 1{n}:00:00 +0000</pubDate></item>"
        for n, title in enumerate(["Le Parlement vote le budget", "Le Raja gagne le derby"])
    )
    old = (
        "<item><title>Vieille nouvelle</title><link>https://news.example/old</link>"
        "<pubDate>Tue, 10 Mar 2026 10:00:00 +0000</pubDate></item>"
    )
    feed_file.write_text(
        f'<rss version="2.0"><channel><title>T</title>{items}{old}</channel></rss>'
    )
    assert run("init", cwd=tmp_path).returncode == 0
    assert run("ingest", str(feed_file), cwd=tmp_path).returncode == 0
    day = ["--date", "2026-03-25"]
    far = run("edition", "move", "1", "9", *day, cwd=tmp_path)
    assert far.returncode == 2 and "between 1 and 2" in far.stderr
    stale = run("edition", "pin", "3", *day, cwd=tmp_path)
    assert stale.returncode == 1 and "not a candidate" in stale.stderr
    assert run("edition", "unpin", "2", *day, cwd=tmp_path).returncode == 1
    shown = json.loads(run("compose", *day, "--json", cwd=tmp_path).stdout)
    assert [i["pinned"] for i in shown["items"]] == [False, False]
    for subject, reason in (("a\nb", "on one line"), ("x" * 201, "at most 200 characters")):
        refused = run("edition", "set", "--subject", subject, *day, cwd=tmp_path)
        assert refused.returncode == 2 and reason in refused.stderr, refused.stderr
    two_lines = run("edition", "set", "--preheader", "a\rb", *day, cwd=tmp_path)
    assert two_lines.returncode == 2 and "preheader must be on one line" in two_lines.stderr
    kept = json.loads(run("compose", *day, "--json", cwd=tmp_path).stdout)
    assert "\n" not in kept["edition"]["subject"]
    weights = run("compose", *day, cwd=tmp_path, NEWSLETTER_CATEGORY_WEIGHTS="xx")
    assert (
        weights.returncode == 2 and "NEWSLETTER_CATEGORY_WEIGHTS: expected JSON" in weights.stderr
    )


def ingest_one(tmp_path: Path, title: str = "Le Parlement vote", language: str = "") -> None:
    """Ingest a one-article feed (published on 2026-03-24, ``language`` declared if given)
    in ``tmp_path``."""
    feed_file = tmp_path / "feed.rss"
    declared = f"<language>{language}</language>" if language else ""
    feed_file.write_text(
        f'<rss version="2.0"><channel><title>T</title>{declared}<item><title>{title}</title>'
        "<link>https://news.example/1</link><pubDate>Tue, 24 Mar 2026 10:00:00 +0000</pubDate>"
        "</item></channel></rss>"
    )
    assert run("ingest", str(feed_file), cwd=tmp_path).returncode == 0


def one_article_draft(tmp_path: Path) -> None:
    """Ingest a one-article feed and compose the draft of 2026-03-25 in ``tmp_path``."""
    ingest_one(tmp_path)
    assert run("compose", "--date", "2026-03-25", cwd=tmp_path).returncode == 0


def test_pause_and_resume_from_the_command_line(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    missing = run("pause", "--date", "2026-03-25", cwd=tmp_path)
    assert missing.returncode == 1 and "no edition" in missing.stderr
    one_article_draft(tmp_path)
    draft = run("pause", "--date", "2026-03-25", cwd=tmp_path)
    assert draft.returncode == 1 and "was not sending" in draft.stderr
    status = json.loads(run("status", "--date", "2026-03-25", "--json", cwd=tmp_path).stdout)
    assert {"pending", "sending", "sent", "deferred", "failed"} <= set(status)
    assert status["edition_status"] == "draft" and status["workers"] == 0


def test_editors_approve_and_hold_from_the_command_line(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    missing = run("edition", "approve", "--date", "2026-03-25", cwd=tmp_path)
    assert missing.returncode == 1 and "no edition" in missing.stderr
    one_article_draft(tmp_path)
    held = run("edition", "hold", "--date", "2026-03-25", cwd=tmp_path)
    assert held.returncode == 0 and "held: 2026-03-25" in held.stdout
    again = run("edition", "hold", "--date", "2026-03-25", cwd=tmp_path)
    assert again.returncode == 0 and "already held" in again.stdout
    approved = run("edition", "approve", "--date", "2026-03-25", "--by", "chef@example.ma",
                   cwd=tmp_path)  # fmt: skip
    assert approved.returncode == 0 and "approved 2026-03-25" in approved.stdout
    same = run("compose", "--date", "2026-03-25", "--json", cwd=tmp_path)
    assert json.loads(same.stdout)["items"]  # recomposing a draft keeps it a draft
    assert "cleared" not in same.stderr  # nothing changed: the approval stands
    ingest_one(tmp_path, "Le Parlement vote la loi de finances")  # the article is updated
    changed = run("compose", "--date", "2026-03-25", cwd=tmp_path)
    assert "the approval by chef@example.ma of version 1 is cleared" in changed.stderr
    bad = run("edition", "hold", "--date", "2026-02-30", cwd=tmp_path)
    assert bad.returncode == 2


def test_an_edition_left_empty_by_its_languages_says_so(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    ingest_one(tmp_path, "Parliament votes the budget", language="en")
    empty = run("compose", "--date", "2026-03-25", cwd=tmp_path)
    assert empty.returncode == 0
    assert "every article of its window was left out (language 1" in empty.stderr
    assert "(NEWSLETTER_LANGUAGES) are fr" in empty.stderr
    sent = run("send", "--date", "2026-03-25", "--early", cwd=tmp_path)
    assert sent.returncode == 1 and "`dropped`" in sent.stderr


def test_a_refused_decision_leaves_no_draft_and_an_empty_draft_cannot_be_approved(
    tmp_path: Path,
) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    one_article_draft(tmp_path)  # article #1, a candidate of 2026-03-25 only
    for decision in ("pin", "exclude"):
        refused = run("edition", decision, "1", "--date", "2031-05-05", cwd=tmp_path)
        assert refused.returncode == 1 and "not a candidate" in refused.stderr
    approve = run("edition", "approve", "--date", "2031-05-05", "--by", "x@example.ma",
                  cwd=tmp_path)  # fmt: skip
    assert approve.returncode == 1 and "no edition" in approve.stderr
    assert run("compose", "--date", "2031-05-05", cwd=tmp_path).returncode == 0
    empty = run("edition", "approve", "--date", "2031-05-05", "--by", "x@example.ma",
                cwd=tmp_path)  # fmt: skip
    assert empty.returncode == 1 and "no items: nothing to approve" in empty.stderr


def test_import_keeps_readers_choices_and_refuses_unusable_files(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    readers = tmp_path / "readers.csv"
    readers.write_text("email,name,topics\nuser12@example.org,User 12,sport\n")
    assert "1 new, 0 updated, 0 unchanged" in run("subscribers", "import", str(readers),
                                                   cwd=tmp_path).stdout  # fmt: skip
    add = run("subscribers", "add", "user12@example.org", "--topics", "culture", cwd=tmp_path)
    assert add.returncode == 0  # stands for the reader's own choice on the preferences page
    again = run("subscribers", "import", str(readers), cwd=tmp_path)
    assert again.returncode == 0 and "0 new, 0 updated, 1 unchanged" in again.stdout
    listed = json.loads(run("subscribers", "list", "--json", cwd=tmp_path).stdout)
    assert listed[0]["topics"] == ["culture"]
    huge = tmp_path / "huge.csv"
    huge.write_text("email,name\nb@example.org," + "x" * 200_000 + "\n")
    refused = run("subscribers", "import", str(huge), cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "line 2: not a readable subscriber CSV" in refused.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email;name;fax\nh@example.org;Hélène;1\n".encode("cp1252"))
    excel = run("subscribers", "import", str(latin), cwd=tmp_path)
    assert excel.returncode == 0 and "1 new" in excel.stdout and "0 rejected" in excel.stdout
    assert "warning:" in excel.stderr and "Windows-1252" in excel.stderr
    names = {s["email"]: s["name"] for s in json.loads(
        run("subscribers", "list", "--json", cwd=tmp_path).stdout)}  # fmt: skip
    assert names["h@example.org"] == "Hélène"


def test_settings_errors_and_a_busy_port_exit_with_the_documented_status(
    tmp_path: Path,
) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    mysql = run("subscribers", "list", cwd=tmp_path, NEWSLETTER_DATABASE_URL="mysql://x")
    assert mysql.returncode == 2 and "NEWSLETTER_DATABASE_URL" in mysql.stderr
    assert "unexpected" not in mysql.stderr
    two = run("subscribers", "list", cwd=tmp_path, NEWSLETTER_FROM="Evil <a@b.c>, other@x.y")
    assert two.returncode == 2 and "NEWSLETTER_FROM" in two.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for command in ("serve", "run"):
            result = run(command, "--port", port, cwd=tmp_path)
            assert result.returncode == 1, (command, result.stderr)
            assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
