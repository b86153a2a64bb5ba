"""Configuration: what the operator sets and how the code reads it.

- ``settings``: :class:`~newsletter.config.settings.Settings` (``config/newsletter.toml``
  overridden by ``NEWSLETTER_*`` variables) and :func:`~newsletter.config.settings.load_settings`,
  whose errors name the variable.
- The settings by concern, put together by ``Settings``: ``storage`` (data directory,
  database), ``edition`` (content, send time, feeds), ``identity`` (URL, sender, headers,
  link-signing keys, DKIM), ``delivery`` (providers, SMTP, HTTP APIs, limits), ``webhooks``
  (bounces, webhook secrets), ``editors`` (editors, approval, scheduler, sessions); ``checks``
  holds the checks they share.
- ``secrets``: parsing of the webhook keys and secrets (used by ``webhooks`` and the web app).
- ``options``: small frozen options, one per stage, read once from the settings.
"""
