"""Providers: one module per way of handing messages over (file outbox, SMTP, ...).

Providers never touch the database: they take envelopes and return per-message results
(:mod:`newsletter.providers.base`).
"""
