"""The newsroom's sources: the ``sources`` commands and their JSON, conditional GET against
a real HTTP server, backoff after failures, the section aliases, and two replicas claiming
the due sources (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.config.options import PollOptions
from newsletter.ingest.polling import BACKOFF_CAP_SECONDS, Sources, backoff
from newsletter.ingest.sections import alias_table, with_section
from newsletter.store.articles import ArticleRecord
from newsletter.store.db import transaction
from newsletter.store.models import Article
from newsletter.store.sources import claim_due
from newsletter.timeutil import get_zone, utcnow
from newsletter.wiring import App
from tests.conftest import run_cli
from tests.feedserver import LAST_MODIFIED, Entry, serving_feeds

KEYS = {"id", "url", "name", "section", "last_polled", "last_status", "new", "updated",
        "unreadable_dates", "error"}  # fmt: skip


def options(**changes: object) -> PollOptions:
    base = PollOptions(timeout=5, max_bytes=1_000_000, every_minutes=15, zone=get_zone("UTC"))
    return PollOptions(**{**base.__dict__, **changes})  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def cli(app: App, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": app.settings.effective_database_url}
    result = run_cli("sources", *args, env=env)
    return result.returncode, result.stdout, result.stderr


def test_sources_commands_add_list_poll_remove_and_their_json(app: App, tmp_path: Path) -> None:
    with serving_feeds() as server:
        server.feeds["/une"] = [Entry("Le budget voté", "https://example.org/a/1", "Politique")]
        server.status["/panne"] = 500
        code, out, err = cli(app, "add", server.url("/une"), "--name", "Le Monde",
                             "--section", "International", "--language", "fr",
                             "--timezone", "Europe/Paris", "--every", "30")  # fmt: skip
        assert code == 0, err
        assert cli(app, "add", server.url("/panne"))[0] == 0
        for bad in ("ftp://example.org/feed", "http://", "not a url", "http://exa mple.org/"):
            code, _, err = cli(app, "add", bad)
            assert code == 2 and "error:" in err, (bad, err)
        code, out, _ = cli(app, "list", "--json")
        listed = json.loads(out)
        assert [set(s) for s in listed] == [KEYS, KEYS]
        first = listed[0]
        assert first["name"] == "Le Monde" and first["section"] == "international"
        assert first["last_polled"] is None and first["last_status"] is None

        code, out, err = cli(app, "poll", "--json")
        assert code == 0, err  # one source failing is not a failed poll
        polled = {s["url"]: s for s in json.loads(out)}
        ok, broken = polled[server.url("/une")], polled[server.url("/panne")]
        assert ok["last_status"] == 200 and ok["new"] == 1 and ok["error"] is None
        assert ok["last_polled"].endswith("Z") and ok["unreadable_dates"] == 0
        assert broken["last_status"] == "http_500" and "500" in broken["error"]
        assert broken["new"] == 0

        # Not due again (every 30 and 15 minutes, backoff for the broken one): nothing.
        assert json.loads(cli(app, "poll", "--json")[1]) == []
        code, out, _ = cli(app, "poll", "--all", "--json")
        again = {s["url"]: s for s in json.loads(out)}
        assert again[server.url("/une")]["last_status"] == "not_modified"
        assert [s.status for s in server.polls("/une")] == [200, 304]
        assert server.polls("/une")[1].if_none_match is not None

        code, out, _ = cli(app, "remove", str(broken["id"]))
        assert code == 0
        assert cli(app, "remove", str(broken["id"]))[0] == 1
        assert [s["id"] for s in json.loads(cli(app, "list", "--json")[1])] == [ok["id"]]
        with app.sessions() as session:
            article = session.scalars(select(Article)).one()
        assert article.category == "Politique" and article.language == "fr"


def test_a_source_without_categories_goes_to_its_section_and_aliases_map_categories(
    app: App,
) -> None:
    table = alias_table({"monde": ["Europe", "Amériques", "Asie-Pacifique"]})
    assert table == {"monde": "monde", "europe": "monde", "ameriques": "monde",
                     "asie-pacifique": "monde"}  # fmt: skip
    record = ArticleRecord(url="https://e.org/1", url_key="k", source="s", title="t",
                           published_at=utcnow(), category="Asie-Pacifique",
                           tags=["Asie-Pacifique", "Chine"])  # fmt: skip
    assert with_section(record, table, "afrique").category == "monde"
    plain = ArticleRecord(url="https://e.org/2", url_key="k2", source="s", title="t",
                          published_at=utcnow())  # fmt: skip
    assert with_section(plain, table, "afrique").category == "afrique"
    with serving_feeds() as server:
        server.feeds["/f24"] = [
            Entry("Sommet à Bruxelles", "https://example.org/b/1", "Europe"),
            Entry("Élections au Sénégal", "https://example.org/b/2"),
            Entry("Finale de la CAN", "https://example.org/b/3", "Sport"),
        ]
        sources = Sources(app.sessions, options(section_aliases={"monde": ("Europe",)}))
        sources.add(server.url("/f24"), section="Afrique")
        [view] = sources.poll()
        assert view.new == 3, view
    with app.sessions() as session:
        got = dict(session.execute(select(Article.title, Article.category)).all())
    assert got == {"Sommet à Bruxelles": "monde", "Élections au Sénégal": "afrique",
                   "Finale de la CAN": "Sport"}  # fmt: skip


def test_backoff_grows_after_failures_and_is_capped() -> None:
    assert backoff(15, 0) == timedelta(minutes=15)
    assert [backoff(15, n) / timedelta(minutes=1) for n in range(1, 7)] == [
        30, 60, 120, 240, 360, 360,
    ]  # fmt: skip
    assert backoff(600, 3) == timedelta(minutes=600)  # never below the source's interval
    assert BACKOFF_CAP_SECONDS == 6 * 3600


def test_a_failing_source_waits_longer_each_time_and_recovers(app: App) -> None:
    clock = Clock()
    with serving_feeds() as server:
        server.feeds["/f"] = [Entry("Un titre", "https://example.org/c/1")]
        server.status["/f"] = 503
        sources = Sources(app.sessions, options(), clock=clock)
        sources.add(server.url("/f"))
        waits = []
        for _ in range(3):
            [view] = sources.poll()
            assert view.last_status == "http_503" and view.error
            waits.append((view.next_poll - clock.now) / timedelta(minutes=1))
            clock.now = view.next_poll
        assert waits == [30, 60, 120] and view.failures == 3
        assert sources.failing_for_a_day([view]) == []
        clock.now = view.failing_since + timedelta(days=1)  # type: ignore[operator]
        assert sources.failing_for_a_day([view]) == [view]
        del server.status["/f"]
        [view] = sources.poll(every=True)
        assert view.last_status == "200" and view.failures == 0 and view.failing_since is None
        assert (view.next_poll - clock.now) == timedelta(minutes=15)


def test_unreachable_and_oversized_sources_are_reported_and_the_others_load(app: App) -> None:
    with serving_feeds() as server:
        server.feeds["/big"] = [Entry("x" * 200, f"https://example.org/d/{n}") for n in range(50)]
        server.feeds["/ok"] = [Entry("Un titre", "https://example.org/d/ok")]
        sources = Sources(app.sessions, options(max_bytes=2000, timeout=2))
        sources.add("http://127.0.0.1:9/feed")  # the discard port: nothing listens
        sources.add(server.url("/big"))
        sources.add(server.url("/ok"))
        views = {v.url: v for v in sources.poll()}
    assert views["http://127.0.0.1:9/feed"].last_status == "unreachable"
    assert views[server.url("/big")].last_status == "too_large"
    assert views[server.url("/ok")].last_status == "200" and views[server.url("/ok")].new == 1


def test_configured_sources_register_once_by_url(app: App) -> None:
    from newsletter.config.edition import SourceSetting

    sources = Sources(app.sessions, options())
    entries = [SourceSetting(url="https://www.lemonde.fr/international/rss_full.xml",
                             section="monde", name="Le Monde")]  # fmt: skip
    assert sources.register(entries) == 1
    assert sources.register(entries) == 0
    entries = [entries[0].model_copy(update={"name": "Le Monde International"})]
    assert sources.register(entries) == 0
    [view] = sources.registered()
    assert view.name == "Le Monde International" and view.section == "monde"
    with pytest.raises(ValueError):
        SourceSetting(url="lemonde.fr/rss")


def test_two_replicas_never_claim_one_source_at_once(app: App) -> None:
    sources = Sources(app.sessions, options())
    for n in range(6):
        sources.add(f"https://example.org/feed/{n}.xml")
    now = utcnow()
    lease = now + timedelta(minutes=2)
    with transaction(app.sessions) as first_session:
        first = claim_due(first_session, "replica-a", now, lease)
    with transaction(app.sessions) as second_session:
        second = claim_due(second_session, "replica-b", now, lease)
    assert len(first) == 6 and second == []
    # A claim whose process died expires with its lease.
    later = lease + timedelta(seconds=1)
    with transaction(app.sessions) as session:
        assert len(claim_due(session, "replica-b", later, later + timedelta(minutes=2))) == 6


def test_concurrent_claims_split_the_sources_without_overlap(app: App) -> None:
    import threading

    sources = Sources(app.sessions, options())
    for n in range(40):
        sources.add(f"https://example.org/feed/{n}.xml")
    now = utcnow()
    won: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def replica(name: str) -> None:
        barrier.wait()
        with transaction(app.sessions) as session:
            won[name] = [s.id for s in claim_due(session, name, now, now + timedelta(minutes=2))]

    threads = [threading.Thread(target=replica, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [i for ids in won.values() for i in ids]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40


def test_init_registers_the_sources_of_the_toml_file_once(tmp_path: Path) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text(
        'timezone = "Africa/Casablanca"\n'
        "[section_aliases]\n"
        'monde = ["Europe", "Amériques", "Asie-Pacifique"]\n'
        "[[sources]]\n"
        'url = "https://www.lemonde.fr/international/rss_full.xml"\n'
        'name = "Le Monde"\nsection = "monde"\n'
        "[[sources]]\n"
        'url = "https://www.france24.com/fr/afrique/rss"\n'
        'name = "France 24"\nlanguage = "fr"\ntimezone = "Europe/Paris"\nevery = 30\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NEWSLETTER_CONFIG": str(config)}
    first = run_cli("init", env=env, cwd=tmp_path)
    assert first.returncode == 0 and "2 configured sources, 2 new" in first.stdout, first.stderr
    again = run_cli("init", env=env, cwd=tmp_path)
    assert "2 configured sources, 0 new" in again.stdout
    listed = json.loads(run_cli("sources", "list", "--json", env=env, cwd=tmp_path).stdout)
    assert [(s["name"], s["section"]) for s in listed] == [("Le Monde", "monde"),
                                                           ("France 24", None)]  # fmt: skip
    config.write_text('[[sources]]\nurl = "ftp://example.org/rss"\n', encoding="utf-8")
    bad = run_cli("sources", "list", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "NEWSLETTER_SOURCES" in bad.stderr


def test_last_modified_alone_makes_a_conditional_get(app: App) -> None:
    with serving_feeds() as server:
        server.feeds["/f"] = [Entry("Un titre", "https://example.org/e/1")]
        server.without_etag.add("/f")
        sources = Sources(app.sessions, options())
        sources.add(server.url("/f"))
        assert sources.poll()[0].last_status == "200"
        assert sources.poll(every=True)[0].last_status == "not_modified"
        [first, second] = server.polls("/f")
    assert first.if_modified_since is None and first.if_none_match is None
    assert second.if_modified_since == LAST_MODIFIED and second.if_none_match is None


def test_a_source_failing_for_a_day_alerts_the_editors_once(app: App) -> None:
    from newsletter.scheduler.day import Day
    from newsletter.store.runs import runs_of
    from newsletter.store.sources import PollResult, record_poll

    view, _ = app.sources.add("http://127.0.0.1:9/rss.xml")  # nothing listens there
    long_ago = utcnow() - timedelta(days=1, minutes=5)
    with transaction(app.sessions) as session:
        record_poll(session, view.id, "test", PollResult(
            "unreachable", long_ago, long_ago, error="cannot fetch"))  # fmt: skip
    day = Day(app)
    assert day.poll() == 1
    assert day.poll(every=True) == 1  # failing still: no second alert
    today = utcnow().astimezone(app.settings.zone).date()
    with app.sessions() as session:
        runs = runs_of(session, today)
    assert [job for job in runs if job.startswith("alert:")] == [f"alert:source-{view.id}"]
    [after] = app.sources.registered()
    assert after.failures == 3 and after.failing_since == long_ago


def test_ingest_by_hand_maps_categories_with_the_aliases_too(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECTION_ALIASES", '{"monde": ["Asie-Pacifique"]}')
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": app.settings.effective_database_url}
    with serving_feeds() as server:
        server.feeds["/f"] = [Entry("Typhon aux Philippines", "https://e.org/1", "Asie-Pacifique")]
        result = run_cli("ingest", server.url("/f"), env=env)
    assert result.returncode == 0, result.stderr
    with app.sessions() as session:
        assert session.scalars(select(Article.category)).one() == "monde"
