"""Two editors at once, through the real ASGI app on SQLite and PostgreSQL: twelve
decisions sent together on one draft are each kept (303) or refused (409, "the draft
changed, reload"), never a 500 and never a decision lost; the handlers run in Starlette's
thread pool, each on its own database connection, so the requests truly overlap."""

from __future__ import annotations

import asyncio
import re

import httpx

from newsletter.store.models import Edition
from newsletter.wiring import App
from tests import test_web_editor as web
from tests.test_web_editor import DAY, Browser, composed

# The editors' fixtures: an editor account, the sample day, a signed-in browser.
editor_settings, site, signed_in = web.editor_settings, web.site, web.signed_in

TOGETHER = 12


def version_of(page: str) -> int:
    """The draft's version that a page's forms carry."""
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, page[:400]
    return int(match[1])


def candidates(browser: Browser, application: App) -> tuple[list[int], list[int]]:
    """The draft's items and the articles its page lists as left out (pinnable)."""
    shown = composed(application)
    page = browser.get(f"/editor/editions/{DAY}").text
    left = re.findall(r'items/(\d+)"><input type="hidden" name="csrf_token" value="[^"]+">'
                      r'<input type="hidden" name="version" value="\d+">'
                      r'<input type="hidden" name="action" value="pin">', page)  # fmt: skip
    return shown, [int(a) for a in left if int(a) not in shown]


def together(browser: Browser, posts: list[tuple[str, dict[str, str]]]) -> list[httpx.Response]:
    """POST every form at once (one event loop, ``asyncio.gather``) with the session of
    ``browser``; the answers in the same order."""
    token = browser.csrf()

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=browser.asgi)  # type: ignore[arg-type]
        async with httpx.AsyncClient(
            transport=transport, base_url=browser.base_url, cookies=browser.cookies
        ) as client:
            return list(
                await asyncio.gather(
                    *(client.post(url, data={"csrf_token": token, **data}) for url, data in posts)
                )
            )

    return asyncio.run(go())


def stored(application: App) -> Edition:
    edition = application.drafts.get(DAY)
    assert edition is not None
    return edition


def decisions_for(shown: list[int], outside: list[int]) -> list[tuple[str, int]]:
    """Twelve decisions on twelve different articles: exclude the draft's items but its
    first, pin articles left out."""
    chosen = [("exclude", a) for a in shown[1:]] + [("pin", a) for a in outside]
    assert len(chosen) >= TOGETHER, "the sample day has enough articles for twelve decisions"
    return chosen[:TOGETHER]


def kept(edition: Edition, action: str, article_id: int) -> bool:
    if action == "pin":
        return article_id in edition.pins and article_id in {i.article_id for i in edition.items}
    return article_id in edition.excludes and article_id not in {
        i.article_id for i in edition.items
    }


def test_twelve_decisions_from_one_page_are_kept_or_refused_never_lost(
    signed_in: tuple[Browser, App],
) -> None:
    """Twelve editors act on the page they all saw (one version): the first decision is
    kept, every other is refused with 409 and the "reload" page, and nothing else
    changed; the version went up once."""
    browser, application = signed_in
    shown, outside = candidates(browser, application)
    version = version_of(browser.get(f"/editor/editions/{DAY}").text)
    chosen = decisions_for(shown, outside)
    answers = together(
        browser,
        [(f"/editor/editions/{DAY}/items/{a}", {"action": action, "version": str(version)})
         for action, a in chosen],
    )  # fmt: skip
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {303, 409}, [
        (s, a.text[:300]) for s, a in zip(statuses, answers, strict=True)
    ]
    assert statuses.count(303) == 1
    edition = stored(application)
    assert edition.version == version + 1
    for (action, article_id), answer in zip(chosen, answers, strict=True):
        if answer.status_code == 303:
            assert kept(edition, action, article_id), (action, article_id)
        else:
            assert "Le brouillon a changé" in answer.text
            assert f'href="/editor/editions/{DAY}"' in answer.text  # reload
            assert not kept(edition, action, article_id), (action, article_id)
    assert len(edition.pins) + len(edition.excludes) == 1


def test_twelve_decisions_without_a_version_are_all_kept(
    signed_in: tuple[Browser, App],
) -> None:
    """Twelve decisions at once that name no version (a script, as the command line
    does): serialised on the draft, each is applied to the newest draft and every one is
    there at the end; the version went up twelve times, the audit log has twelve entries."""
    browser, application = signed_in
    shown, outside = candidates(browser, application)
    before = stored(application).version
    chosen = decisions_for(shown, outside)
    answers = together(
        browser,
        [(f"/editor/editions/{DAY}/items/{a}", {"action": action}) for action, a in chosen],
    )
    assert [a.status_code for a in answers] == [303] * TOGETHER, [a.text[:300] for a in answers]
    edition = stored(application)
    lost = [(action, a) for action, a in chosen if not kept(edition, action, a)]
    assert lost == []
    assert edition.version == before + TOGETHER
    log = browser.get("/editor/audit").text
    assert log.count("a épinglé") + log.count("a exclu") == TOGETHER


def test_twelve_subjects_at_once_leave_one_of_them_and_no_500(
    signed_in: tuple[Browser, App],
) -> None:
    """Texts and approvals together, on one version: one is kept, the rest refused."""
    browser, application = signed_in
    composed(application)
    version = str(version_of(browser.get(f"/editor/editions/{DAY}").text))
    posts = [(f"/editor/editions/{DAY}/texts", {"subject": f"Objet {n}", "version": version})
             for n in range(TOGETHER - 2)]  # fmt: skip
    posts += [(f"/editor/editions/{DAY}/approve", {"version": version})] * 2
    answers = together(browser, posts)
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {303, 409} and statuses.count(303) == 1, statuses
    edition = stored(application)
    winner = statuses.index(303)
    if winner < TOGETHER - 2:
        assert edition.subject == f"Objet {winner}" and edition.approved_at is None
    else:
        assert edition.approved_version == int(version) and edition.subject_override is None


def test_twelve_composes_of_a_new_draft_at_once_answer_303(
    signed_in: tuple[Browser, App],
) -> None:
    """The draft has no row yet to lock: composing it twelve times at once still never
    collides (SQLite's write lock, PostgreSQL's advisory lock on the date), and each
    composition is in the log."""
    browser, application = signed_in
    assert application.drafts.get(DAY) is None
    answers = together(browser, [("/editor/editions", {"date": DAY.isoformat()})] * TOGETHER)
    assert [a.status_code for a in answers] == [303] * TOGETHER, [a.text[:300] for a in answers]
    assert stored(application).items
    assert browser.get("/editor/audit").text.count("a recomposé") == TOGETHER
