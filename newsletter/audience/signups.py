"""A reader's sign-up, end to end (double opt-in): validate the address, record the reader
as unconfirmed, and mail the confirmation link; :mod:`newsletter.audience.signup` holds the
steps, this module the use case the pages and the API call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.records import make_record
from newsletter.audience.signup import SignupOutcome, confirmation_message, request_signup
from newsletter.config.options import SenderOptions
from newsletter.deliver.outgoing import Outgoing
from newsletter.links import Links
from newsletter.providers.base import Envelope


@dataclass(frozen=True)
class ConfirmationOptions:
    """The confirmation email's words: the newsletter's ``title`` and ``language``, and how
    many ``days`` its link stays valid."""

    title: str
    language: str
    days: float


class Signups:
    """Sign-ups recorded through ``sessions``, confirmations signed by ``links`` and sent
    through ``outgoing`` (DKIM-signed when ``signer`` gives a function)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        links: Links,
        sender: SenderOptions,
        options: ConfirmationOptions,
        outgoing: Outgoing,
        signer: Callable[[], Callable[[bytes], bytes] | None],
    ) -> None:
        self.sessions, self.links, self.sender, self.options = sessions, links, sender, options
        self.outgoing, self.signer = outgoing, signer

    def signup(
        self, email: str, name: str | None = None, topics: str | list[str] | None = None
    ) -> SignupOutcome:
        """A reader's sign-up (double opt-in): validate, record, send the confirmation.

        Raises :class:`newsletter.audience.records.InvalidSubscriber` for an invalid address
        and :class:`~newsletter.errors.UsageError` when the confirmation cannot be handed to
        the provider (the sign-up is kept: asking again resends it)."""
        record = make_record(email, name, topics)
        outcome = request_signup(self.sessions, record)
        if outcome.confirmation_needed and outcome.subscriber_id is not None:
            o, s = self.options, self.sender
            data = confirmation_message(
                self.links, subscriber_id=outcome.subscriber_id, email=record.email,
                title=o.title, sender_name=s.name, sender_address=s.address, days=o.days,
                language=o.language,
            )  # fmt: skip
            signer = self.signer()
            envelope = Envelope(
                key=time.time_ns() // 1000,  # unique: a repeated confirmation is a new message
                sender=s.address, recipient=record.email,
                data=signer(data) if signer else data, message_id="", campaign="confirmations",
            )  # fmt: skip
            self.outgoing.send(envelope, "the confirmation")
        return outcome
