"""Where a send stands (newsletter.deliver.status): pure functions of the store's figures."""

from __future__ import annotations

import pytest

from newsletter.deliver.status import send_progress, sending_status
from newsletter.store.progress import SendFigures

STATUSES = ("pending", "claimed", "sending", "sent", "deferred", "failed", "skipped")


def figures(
    rate: float = 0.0, in_flight: dict[str, int] | None = None, **counts: int
) -> SendFigures:
    return SendFigures(
        counts={status: counts.get(status, 0) for status in STATUSES},
        rate_per_second=rate,
        in_flight_by_worker=in_flight or {},
        live_workers=2,
    )


def test_time_left_comes_from_the_rate_while_sending() -> None:
    now = sending_status(
        "sending",
        None,
        figures(rate=4.0, pending=90, claimed=6, deferred=4, sent=50),
        lambda _: False,
    )
    assert (now.left, now.eta_seconds, now.rate_per_second) == (100, 25, 4.0)
    assert not now.finished and now.workers == 2


@pytest.mark.parametrize("edition_status", ["paused", "sent", "draft"])
def test_no_rate_nor_time_left_unless_sending(edition_status: str) -> None:
    now = sending_status(edition_status, None, figures(rate=4.0, pending=10), lambda _: False)
    assert (now.rate_per_second, now.eta_seconds) == (0.0, None)


def test_only_the_messages_of_dead_workers_are_in_doubt() -> None:
    in_flight = {"host:1:aa": 2, "host:2:bb": 3}
    now = sending_status(
        "sending", None, figures(sending=5, in_flight=in_flight), lambda owner: owner == "host:1:aa"
    )
    assert now.in_doubt == 2 and not now.finished


def test_the_json_document_keeps_its_contract() -> None:
    now = sending_status(
        "sending", "paused by errors", figures(rate=1.234, pending=3, sent=7), lambda _: True
    )
    assert now.as_json("2026-03-25") == {
        "date": "2026-03-25", "edition_status": "sending", "pending": 3, "claimed": 0,
        "sending": 0, "sent": 7, "deferred": 0, "failed": 0, "skipped": 0, "uncertain": 0,
        "rate_per_second": 1.23, "eta_seconds": 2, "workers": 2,
        "paused_reason": "paused by errors",
    }  # fmt: skip


def test_a_finished_send_has_nothing_left_nor_in_flight() -> None:
    assert sending_status("sent", None, figures(sent=9, failed=1), lambda _: False).finished


def test_progress_counts_every_message_handed_over() -> None:
    progress = send_progress(sent=6, failed=1, deferred=2, unknown=1, total=0, elapsed_seconds=2)
    assert (progress.done, progress.total, progress.rate_per_second) == (10, None, 5.0)
