"""The footer's one legal rule that settings alone cannot check: a real list is never mailed
with the example postal address.

Commercial and newsletter email must carry the sender's valid physical postal address
(CAN-SPAM Act, 15 U.S.C. 7704(a)(5); Gmail's and Yahoo's bulk-sender guidelines ask for
it too); the shipped default is an example that names no one. A list made of the demo's
readers only, or a file outbox (nothing leaves the machine), may keep it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.identity import IdentitySettings
from newsletter.errors import ConfigError
from newsletter.store.subscribers import count_subscribers_not_from

#: The shipped example address (``postal_address``'s default).
EXAMPLE_POSTAL_ADDRESS: str = IdentitySettings.model_fields["postal_address"].default


def check_postal_address(
    sessions: sessionmaker[Session], postal_address: str, *, file_outbox: bool
) -> None:
    """Raise :class:`ConfigError` naming ``NEWSLETTER_POSTAL_ADDRESS`` (``postal_address``)
    when ``postal_address`` is still the example and the send would mail real readers
    (anyone but the demo's) through a real provider (``file_outbox`` False)."""
    if file_outbox or postal_address.strip() != EXAMPLE_POSTAL_ADDRESS:
        return
    with sessions() as session:
        real = count_subscribers_not_from(session, "demo")
    if real:
        raise ConfigError(
            "NEWSLETTER_POSTAL_ADDRESS: the footer still shows the example postal address "
            f"{EXAMPLE_POSTAL_ADDRESS!r}; set postal_address (config/newsletter.toml) or "
            "NEWSLETTER_POSTAL_ADDRESS to the newsroom's real address before mailing "
            f"{real} readers (the law asks for it: CAN-SPAM, bulk-sender guidelines)"
        )
