"""Deliver: the outbox's workers. Claim rows, personalise, hand to a provider, record."""
