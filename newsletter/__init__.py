"""newsletter: a self-hosted daily five-minute email briefing.

The pipeline flows one way (see README "Architecture")::

    config -> store -> ingest -> compose -> render -> deliver -> providers

with ``cli`` (and later ``web`` and ``scheduler``) on top.
"""

__version__ = "0.1.0"
