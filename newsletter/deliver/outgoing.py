"""One message outside any edition's outbox (a sign-up confirmation, a test send, a note
to the editors), handed to a provider of its own and closed after it: no delivery row, no
retry; the caller learns at once whether the provider accepted it."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.errors import UsageError
from newsletter.providers.base import Envelope, MessageResult, Provider, Result


class Outgoing:
    """Sends single messages through providers made by ``provider`` (one per message)."""

    def __init__(self, provider: Callable[[], Provider]) -> None:
        self.provider = provider

    def send(self, envelope: Envelope, what: str) -> MessageResult:
        """Hand ``envelope`` to a provider. Raises :class:`UsageError` naming ``what`` (e.g.
        "the confirmation") unless the provider accepted it; ``ConfigError`` for a provider
        whose settings are wrong."""
        provider = self.provider()
        try:
            batch = provider.send([envelope])
        finally:
            provider.close()
        result = batch.results[0] if batch.results else None
        if result is None or result.result != Result.SENT:
            reason = batch.stop or (result.detail if result else None) or "no answer"
            raise UsageError(f"{what} was not accepted: {reason}")
        return result
