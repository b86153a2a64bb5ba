"""The composition root: settings in, the product's objects out. It builds and decides
nothing else (the model: Ghost's email-service wrapper, whose ``init()`` only constructs).

:class:`App` makes, once each and on first use, the database engine and sessions, the link
signer, the sender's identity, the DKIM signer and the mail provider, then the use cases
that the command line, the web pages and the scheduler call, each given only what it uses:

- ``composer`` (:class:`~newsletter.editions.compose.Composer`): compose a draft, daily or
  weekly;
- ``drafts`` (:class:`~newsletter.editions.drafts.Drafts`): read editions, editors'
  decisions, hold, approve, pause;
- ``renderer`` (:class:`~newsletter.editions.rendering.Renderer`): render once, preview,
  the per-reader sender;
- ``delivery`` (:class:`~newsletter.editions.delivery.Delivery`): drain an outbox, workers;
- ``release`` (:class:`~newsletter.editions.release.Release`): release then deliver (the
  day's send, the weekly edition, a time-zone wave);
- ``ingest`` (:class:`~newsletter.ingest.run.Ingest`): gather articles;
- ``push`` (:class:`~newsletter.ingest.push.Push`): articles a CMS pushes;
- ``sources`` (:class:`~newsletter.ingest.polling.Sources`): the newsroom's sources and
  their polling;
- ``outgoing`` (:class:`~newsletter.deliver.outgoing.Outgoing`): single messages;
- ``signups`` (:class:`~newsletter.audience.signups.Signups`): double opt-in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Settings
from newsletter.errors import ConfigError
from newsletter.links import Links
from newsletter.store.db import check_schema, make_engine, migrate, session_factory
from newsletter.timeutil import local_today

if TYPE_CHECKING:  # built on first use: a command imports only what it runs
    import httpx

    from newsletter.audience.signups import Signups
    from newsletter.deliver.outgoing import Outgoing
    from newsletter.editions.clicks import Clicks
    from newsletter.editions.compose import Composer
    from newsletter.editions.delivery import Delivery
    from newsletter.editions.drafts import Drafts
    from newsletter.editions.release import Release
    from newsletter.editions.rendering import Renderer
    from newsletter.editions.report import Reports
    from newsletter.ingest.polling import Sources
    from newsletter.ingest.push import Push
    from newsletter.ingest.run import Ingest
    from newsletter.providers.base import Provider
    from newsletter.render.edition import Identity


class App:
    """Settings plus the objects built from them. ``engine``, ``provider`` and
    ``http_client`` may be passed in (tests, benchmarks); otherwise they come from the
    settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        provider: Provider | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._provider = provider
        self.http_client = http_client

    # --- infrastructure --------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        """The database engine of ``NEWSLETTER_DATABASE_URL``."""
        return self._engine or make_engine(self.settings.effective_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Session factory on :attr:`engine`."""
        return session_factory(self.engine)

    def init_db(self) -> str | None:
        """Create or migrate the schema; returns the revision."""
        return migrate(self.engine)

    def ready(self) -> None:
        """Raise ``DatabaseError`` unless the schema exists."""
        check_schema(self.engine)

    @cached_property
    def links(self) -> Links:
        """URL builder and token signer."""
        return Links(self.settings.base_url, self.settings.secret_keys)

    @cached_property
    def identity(self) -> Identity:
        """The sender's identity for rendering."""
        from newsletter.render.edition import Identity

        s = self.settings
        return Identity(
            title=s.title,
            sender_name=s.sender_name,
            sender_address=s.sender_address,
            postal_address=s.postal_address,
            list_id=s.effective_list_id,
            language=s.language,
            feedback_id=s.feedback_id,
            accent_color=s.accent_color,
            logo_url=s.logo_url,
            footer_links=tuple(s.footer_links.items()),
            templates_dir=s.templates_dir,
        )

    def dkim_signer(self) -> Callable[[bytes], bytes] | None:
        """The DKIM signing function when ``dkim_selector`` and ``dkim_private_key`` are set
        (a second, Ed25519 signature with ``dkim_ed25519_selector`` and its key); raises
        :class:`ConfigError` when only one of a pair is, or a key is unreadable."""
        from newsletter.render.dkim import DKIMError, DKIMSigner

        s = self.settings
        second = (s.dkim_ed25519_selector, s.dkim_ed25519_private_key)
        if not (s.dkim_selector or s.dkim_private_key or any(second)):
            return None
        if not (s.dkim_selector and s.dkim_private_key):
            raise ConfigError(
                "NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_PRIVATE_KEY go together"
            )
        if any(second) and not all(second):
            raise ConfigError(
                "NEWSLETTER_DKIM_ED25519_SELECTOR and NEWSLETTER_DKIM_ED25519_PRIVATE_KEY go "
                "together"
            )
        try:
            signer = DKIMSigner.from_file(
                s.dkim_selector, s.dkim_domain or s.sender_domain, s.dkim_private_key,
                second_selector=second[0], second_path=second[1],
            )  # fmt: skip
        except DKIMError as exc:
            variable = "ED25519_PRIVATE_KEY" if exc.key else "PRIVATE_KEY"
            raise ConfigError(f"NEWSLETTER_DKIM_{variable}: {exc}") from None
        if len(signer.keys) > 1 and signer.keys[1].algorithm != b"ed25519-sha256":
            raise ConfigError("NEWSLETTER_DKIM_ED25519_PRIVATE_KEY: not an Ed25519 key")
        return signer.sign

    def provider(self) -> Provider:
        """The provider given at construction or a new configured one (HTTP providers on
        :attr:`provider_client`). Raises :class:`ConfigError` for wrong provider settings."""
        from newsletter.providers.registry import make_provider

        return self._provider or make_provider(self.settings, self.provider_client)

    @cached_property
    def provider_client(self) -> httpx.Client:
        """The HTTP client of the HTTP mail providers: ``http_client`` or one of our own,
        kept for the process (its connections are reused from batch to batch)."""
        import httpx

        return self.http_client or httpx.Client(timeout=self.settings.http_timeout)

    def today(self) -> date:
        """Today's date in the newsletter's time zone."""
        return local_today(self.settings.zone)

    # --- use cases ---------------------------------------------------------------------------
    @cached_property
    def composer(self) -> Composer:
        """Composes drafts (daily and weekly)."""
        from newsletter.config.options import ComposeOptions
        from newsletter.editions.compose import Composer

        return Composer(self.sessions, ComposeOptions.from_settings(self.settings))

    @cached_property
    def drafts(self) -> Drafts:
        """Reads editions and applies the editors' decisions."""
        from newsletter.editions.drafts import Drafts

        return Drafts(self.sessions, self.composer)

    @cached_property
    def renderer(self) -> Renderer:
        """Renders editions and prepares their senders."""
        from newsletter.config.options import SenderOptions
        from newsletter.editions.rendering import Renderer

        sender = SenderOptions.from_settings(self.settings)
        return Renderer(self.links, self.identity, sender, self.dkim_signer)

    @cached_property
    def delivery(self) -> Delivery:
        """Drains released editions; the workers' loop."""
        from newsletter.config.options import DeliveryOptions
        from newsletter.deliver.limits import guard_for_edition
        from newsletter.editions.delivery import Delivery

        settings, sessions = self.settings, self.sessions

        def guard(provider: Provider, edition_id: int) -> Provider:
            return guard_for_edition(provider, settings, sessions, edition_id)

        return Delivery(
            sessions, self.renderer, self.provider, guard,
            DeliveryOptions.from_settings(settings), parallel=self._provider is None,
        )  # fmt: skip

    @cached_property
    def release(self) -> Release:
        """Releases editions, then delivers them."""
        from newsletter.config.options import ReleaseOptions
        from newsletter.editions.release import Release

        def check_provider() -> None:
            from newsletter.editions.footer import check_postal_address

            self.provider().close()
            self.dkim_signer()  # a half-set key fails here, not after the release
            check_postal_address(
                self.sessions, self.settings.postal_address,
                file_outbox=self.settings.provider == "file",
            )  # fmt: skip

        return Release(
            self.sessions, self.composer, self.drafts, self.delivery,
            ReleaseOptions.from_settings(self.settings), check_provider,
        )  # fmt: skip

    @cached_property
    def ingest(self) -> Ingest:
        """Gathers articles from feeds, files and the sample data."""
        from newsletter.ingest.run import Ingest

        return Ingest(self.sessions, self.settings, self.http_client)

    @cached_property
    def push(self) -> Push:
        """Stores the articles a CMS pushes (``POST /api/articles``)."""
        from newsletter.ingest.push import Push

        return Push(self.sessions)

    @cached_property
    def sources(self) -> Sources:
        """The newsroom's sources: register, list, remove, poll the due ones."""
        from newsletter.config.options import PollOptions
        from newsletter.ingest.polling import Sources

        return Sources(self.sessions, PollOptions.from_settings(self.settings), self.http_client)

    @cached_property
    def outgoing(self) -> Outgoing:
        """Single messages outside any outbox (confirmations, tests, editors' notes)."""
        from newsletter.deliver.outgoing import Outgoing

        return Outgoing(self.provider)

    @cached_property
    def signups(self) -> Signups:
        """Readers' sign-ups with double opt-in."""
        from newsletter.audience.signups import ConfirmationOptions, Signups
        from newsletter.config.options import SenderOptions

        s = self.settings
        return Signups(
            self.sessions, self.links, SenderOptions.from_settings(s),
            ConfirmationOptions(s.title, s.language, s.confirm_days), self.outgoing,
            self.dkim_signer,
        )  # fmt: skip

    @cached_property
    def clicks(self) -> Clicks:
        """Follows article links: counts the click, gives the target (``/r/<token>``)."""
        from newsletter.config.options import SenderOptions
        from newsletter.editions.clicks import Clicks

        return Clicks(self.sessions, self.links, SenderOptions.from_settings(self.settings))

    @cached_property
    def reports(self) -> Reports:
        """Editions' reports and the newsroom's 30-day figures."""
        from newsletter.editions.report import Reports

        return Reports(self.sessions)
