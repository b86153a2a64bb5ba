"""Canonical URLs: the same article reached by two URLs is stored once."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

#: Query parameters that identify a campaign or a click, never the article (Google Analytics
#: UTM, Facebook/Google/Microsoft click ids, Mailchimp, Medium's ``source=rss...``, AT
#: Internet's ``xtor`` and ``at_*`` (Le Monde, Le Figaro), The Guardian's ``CMP``, the BBC's
#: comScore ``ns_*``, MSN's ``ocid``). Compared in lower case.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga",
        "xtor", "at_medium", "at_campaign", "at_platform", "at_send_date", "cmp",
        "ns_campaign", "ns_mchannel", "ns_source", "ns_linkname", "ns_fee", "ocid",
    }
)  # fmt: skip


def _is_tracking(name: str, value: str) -> bool:
    lowered = name.lower()
    return (
        lowered.startswith("utm_")
        or lowered in TRACKING_PARAMS
        or (lowered == "source" and value.startswith("rss"))
    )


def clean_url(url: str, base: str | None = None) -> str:
    """``url`` made absolute against ``base`` with tracking parameters and the fragment removed.

    Returns ``""`` for a value that is not an http(s) URL after resolution.
    """
    url = (url or "").strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, v)
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def canonical_key(url: str) -> str:
    """A key equal for URLs that name the same article: scheme, ``www.``, a trailing slash,
    percent-encoding case, parameter order and tracking parameters are ignored.

    Returns the SHA-256 hex digest (64 characters) of the canonical form.
    """
    parts = urlsplit(clean_url(url) or url)
    host = parts.netloc.lower().removeprefix("www.")
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~").rstrip("/") or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    canonical = f"{host}{path}" + (f"?{query}" if query else "")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
