"""What comes back after a send: bounces, complaints, provider-side unsubscribes and
deliveries, from every channel, normalised to one :class:`~newsletter.feedback.webhooks.Event`
and applied once.

- ``webhooks/``: one module per provider (Mailgun, SendGrid, Postmark, SES through SNS,
  Resend) that verifies a webhook request and returns its events;
- ``dsn`` (RFC 3464 delivery reports) and ``arf`` (RFC 5965 feedback-loop complaints): bounce
  messages read from a mailbox;
- ``mailboxes``: message files, Maildir and mbox folders, and an inbound SMTP address;
- ``apply``: each event recorded once in ``provider_events`` and applied (suppression, soft
  bounce counts, unsubscribe).
"""
