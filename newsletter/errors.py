"""The product's error tree: what a caller may catch, and where each error comes from.

::

    NewsletterError                       anything the product raises on purpose
    ├── ConfigError                       a setting is missing or malformed (exit 2)
    ├── UsageError                        a request that cannot be carried out as asked
    │                                     (no edition that day, held, not approved ...)
    ├── store.db.DatabaseError            the database is unreachable or not migrated
    └── store.editions.EditionLocked      a change to an edition that was released

Errors of a single input (``InvalidSubscriber``, ``UnknownTimeZone``, ``NotADsn``,
``WeakPassword`` ...) are ``ValueError`` subclasses next to the code that reads the input;
webhook errors (:mod:`newsletter.feedback.webhooks`) map to HTTP answers. A surface (the
command line, a page, the scheduler) turns these into its own words and status codes;
nothing below it prints or exits.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of the errors the product raises on purpose (see the module's tree)."""


class ConfigError(NewsletterError):
    """A setting is missing, malformed or out of range; the message names the setting."""


class UsageError(NewsletterError):
    """The request cannot be carried out as asked; the message says why and what to do."""
