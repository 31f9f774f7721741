"""Canonical URLs (SPEC §7): one spelling per permalink, so a re-scan or a second source
giving the same page is one mention, not two.

Every function takes any `str` a page may hand us and never raises: garbage gives `None`
(or `""` for `host_of`), because one hostile link must not fail a whole source.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import idna

MAX_URL = 8192  # longer "URLs" are payloads, not links
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref_src"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Fragments that point at one item on a page (a comment, a forum post) stay: they are the
# item's identity. Everything else (#top, #respond, #more-123) is navigation and goes.
_ITEM_FRAGMENT = re.compile(r"(?:comment-\d+|p\d+|post[-_]\d+|c\d+|li-comment-\d+)")
_ASCII_HOST = re.compile(r"[a-z0-9_.~-]+")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_STRIPPED = re.compile(r"[\x00\t\n\r]")  # WHATWG drops tabs and newlines anywhere
# Characters kept as they are; anything else (spaces, non-ASCII, quotes) is %-encoded, and
# existing escapes stay, so canonicalising twice changes nothing.
_SAFE_PATH = "/%:@!$&'()*+,;=~-._"
_SAFE_QUERY = _SAFE_PATH + "?"

# Redirectors that wrap the real target in a query parameter: (host, path or any, params).
_REDIRECTORS: tuple[tuple[re.Pattern[str], str | None, tuple[str, ...]], ...] = (
    # Google Alerts (and search results): https://www.google.com/url?rct=j&sa=t&url=<target>&…
    (re.compile(r"(?:www\.)?google\.(?:[a-z]{2,3}|com?\.[a-z]{2})"), "/url", ("url", "q")),
    # Talkwalker Alerts click-through links: a talkwalker.com host with url=<target>
    (re.compile(r"(?:[a-z0-9-]+\.)*talkwalker\.com"), None, ("url",)),
)


# An absolute http(s) URL that `_canonical` only lower-cases, strips of tracking parameters
# and of a navigation fragment: a host name, no port, no user, a path and a query of
# characters that need no escaping (escapes upper-case), no ";" in the path (urljoin would
# split path parameters). Everything else takes the full path.
_SIMPLE_URL = re.compile(
    r"([Hh][Tt][Tt][Pp][Ss]?)://([A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)"
    r"(/(?:[A-Za-z0-9/:@!$&'()*+,=~._-]|%[0-9A-F]{2})*)"
    r"(?:\?((?:[A-Za-z0-9/:@!$&'()*+,;=~._?-]|%[0-9A-F]{2})*))?"
    r"(?:#([!-~]*))?"
)
_SIMPLE_HOST = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)(?::[0-9]*)?(?=[/?#]|\Z)"
)


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The canonical form of an http(s) URL, resolved against `base`; None if not a web URL."""
    if (
        isinstance(url, str)
        and len(url) <= MAX_URL
        and (match := _SIMPLE_URL.fullmatch(url))
        and (base is None or (isinstance(base, str) and _base_ok(base)))
    ):
        scheme, host, path, query, fragment = match.groups()
        canonical = f"{scheme.lower()}://{host.lower()}{path}"
        if query:
            query = "&".join(pair for pair in query.split("&") if pair and _kept(pair))
            if query:
                canonical = f"{canonical}?{query}"
        if fragment and _ITEM_FRAGMENT.fullmatch(fragment):
            canonical = f"{canonical}#{fragment}"
        return canonical
    try:
        return _canonical(url, base)
    except (ValueError, UnicodeError, TypeError, AttributeError):
        return None


def _canonical(url: str, base: str | None) -> str | None:
    if not isinstance(url, str) or len(url) > MAX_URL:
        return None
    url = _STRIPPED.sub("", url).strip(" \x0b\x0c")
    if not url:
        return None
    if base:
        url = urljoin(_STRIPPED.sub("", base).strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return None
    host = _host(parts.hostname or "")
    if not host:
        return None
    port = parts.port  # raises ValueError on a bad port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _escape(parts.path, _SAFE_PATH) or "/"
    query = "&".join(
        _escape(pair, _SAFE_QUERY) for pair in parts.query.split("&") if pair and _kept(pair)
    )
    fragment = parts.fragment if _ITEM_FRAGMENT.fullmatch(parts.fragment) else ""
    return (
        f"{scheme}://{netloc}{path}"
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )


@functools.lru_cache(maxsize=256)
def _base_ok(base: str) -> bool:
    """Whether `urljoin` can read `base` (an absolute URL is then returned as it is)."""
    try:
        urlsplit(_STRIPPED.sub("", base).strip())
    except ValueError:
        return False
    return True


def _host(host: str) -> str:
    """Lower-cased ASCII host (IDNA for international names); "" when it is not a host name."""
    host = host.strip().rstrip(".").lower()
    if ":" in host:  # IPv6 literal, from between the brackets
        return f"[{host}]" if re.fullmatch(r"[0-9a-f:.]+", host) else ""
    if not host.isascii():
        host = idna.encode(host, uts46=True).decode("ascii")
    return host if _ASCII_HOST.fullmatch(host) and ".." not in host else ""


def _escape(text: str, safe: str) -> str:
    """%-encode what must be, keep existing escapes, upper-case their hex digits."""
    return _ESCAPE.sub(lambda m: m[0].upper(), quote(text, safe=safe))


def _kept(pair: str) -> bool:
    key = unquote(pair.split("=", 1)[0]).strip().lower()
    return not (key.startswith("utm_") or key in TRACKING_PARAMS)


def unwrap_redirect(url: str) -> str:
    """The target of a Google Alerts or Talkwalker Alerts redirect link; else `url` unchanged.

    Alert feeds link to their own click-counting redirector; the mention is the page behind it.
    """
    if isinstance(url, str) and not _STRIPPED.search(url):
        lower = url.lower()  # the host, lower-cased, is a part of it
        if "google." not in lower and "talkwalker.com" not in lower:
            return url
    for _ in range(3):  # a redirect may wrap another one
        target = _redirect_target(url)
        if target is None:
            return url
        url = target
    return url


def _redirect_target(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        for host_re, path, params in _REDIRECTORS:
            if not host_re.fullmatch(host) or (path is not None and parts.path != path):
                continue
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            for name in params:
                target = query.get(name, "").strip()
                if urlsplit(target).scheme.lower() in DEFAULT_PORTS:
                    return target
    except (ValueError, TypeError, AttributeError):
        return None
    return None


def host_of(url: str) -> str:
    """The lower-cased host of a URL ("" when there is none): the `site` of accounts."""
    if isinstance(url, str) and (match := _SIMPLE_HOST.match(url)):
        return match[1].lower()
    try:
        return _host(urlsplit(_STRIPPED.sub("", url).strip()).hostname or "")
    except (ValueError, UnicodeError, TypeError, AttributeError):
        return ""
