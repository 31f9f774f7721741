"""Shared pieces of the forum and social parsers: one post as the page shows it, made into
an `Item` with its thread and parent (SPEC §7 "Threads"), hostile-input bounds, dates.

Everything here is pure and picklable: parsers run in worker processes (`ctx.parse`).
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning

from ereput.errors import ParseError
from ereput.fetchers.feed_parse import clean, html_to_text
from ereput.identifiers import (
    clean_name,
    handle_identifier,
    is_placeholder_name,
    uid_identifier,
    url_identifier,
)
from ereput.models import Account, Identifier, Item
from ereput.urls import canonical_url, host_of

MAX_TITLE = 1_000
MAX_TEXT = 100_000
MAX_JSON = 16 * 1024 * 1024
MAX_DATE_TEXT = 200  # a date is a short string: longer ones are not read at all
# Session ids that forums glue to every link (phpBB `sid`, vBulletin `s`, SMF `PHPSESSID`):
# they make one permalink look like many.
SESSION_PARAMS = frozenset({"sid", "s", "phpsessid", "sessionid"})


@dataclass(frozen=True, slots=True)
class Post:
    """One post as a topic page shows it, before it becomes an `Item`."""

    url: str  # its permalink (canonical)
    text: str = ""
    author: Account | None = None
    published: datetime | None = None
    entry_id: str | None = None
    parent_url: str | None = None  # what the page says it replies to (a quoted post…)
    title: str = ""  # only a post's own subject; never the topic title for replies


@dataclass(frozen=True, slots=True)
class TopicPage:
    """One page of a topic: its posts as items and the link to the next page."""

    items: list[Item]
    next_url: str | None = None
    title: str = ""
    first_page: bool = True  # the page holds the topic's first post


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A topic as a listing shows it. `marker` changes whenever a post is added (its last
    post's link, its reply count, its last activity): unchanged means nothing to read."""

    url: str
    key: str
    title: str = ""
    marker: str = ""


@dataclass(frozen=True, slots=True)
class Listing:
    """A forum index, sub-forum or category page: its topics, sub-forums, next page."""

    topics: list[TopicRef] = field(default_factory=list)
    forums: list[str] = field(default_factory=list)
    next_url: str | None = None


def strip_session(url: str | None, base: str | None = None) -> str | None:
    """The canonical URL without the session-id parameters forums add to links."""
    canonical = canonical_url(url, base) if url else None
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    if not parts.query:
        return canonical
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in pairs if k.lower() not in SESSION_PARAMS]
    if len(kept) == len(pairs):
        return canonical
    return canonical_url(urlunsplit(parts._replace(query=urlencode(kept))))


def page_url_of(doc: Any, url: str) -> str:
    """The page's own URL: its `<link rel=canonical>`, else the URL it was fetched from,
    without session ids either way."""
    link = doc.select_one("link[rel=canonical]")
    page = strip_session(str(link.get("href", "")), url) if link else None
    return page or strip_session(url) or url


def query_param(url: str | None, name: str) -> str | None:
    if not url:
        return None
    for k, v in parse_qsl(urlsplit(url).query):
        if k == name:
            return v
    return None


def soup(body: bytes | str, content_type: str | None = None) -> BeautifulSoup:
    """An HTML page parsed by lxml through bs4 (its charset from the page when bytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        if isinstance(body, bytes):
            encoding = _charset(content_type)
            doc = BeautifulSoup(body, "lxml", from_encoding=encoding)
            if doc.find(True) is None and body.strip():
                # lxml gave up on the encoding bs4 guessed (a page whose scripts mention
                # another charset than its own): read it as UTF-8, invalid bytes replaced
                doc = BeautifulSoup(body.decode(encoding or "utf-8", "replace"), "lxml")
            return doc
        return BeautifulSoup(body, "lxml")


def _charset(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", content_type or "")
    return m[1] if m else None


def load_json(body: bytes | str) -> Any:
    """JSON from an API answer; a ParseError (the source fails) when it is not JSON."""
    if len(body) > MAX_JSON:
        raise ParseError("JSON answer too large")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ParseError(f"not JSON: {e}") from None


def first(node: Tag, *selectors: str) -> Tag | None:
    """The first element matching the first selector that matches anything (priority order,
    unlike a CSS selector list, which returns the earliest in the document)."""
    for selector in selectors:
        if (found := node.select_one(selector)) is not None:
            return found
    return None


def text_of(node: Tag | None, *, drop: str = "") -> str:
    """The words of an element, with the elements matching the CSS selector `drop` (quotes
    of other posts, signatures, scripts) removed first."""
    if node is None:
        return ""
    html = str(node)
    if drop:
        copy = soup(html)
        for el in copy.select(drop):
            el.decompose()
        html = str(copy)
    return html_to_text(html)[:MAX_TEXT]


def html_text(html: Any) -> str:
    """Plain text of an HTML string from an API (Discourse `cooked`, a Mastodon status)."""
    return html_to_text(clean(html, MAX_TEXT * 10))[:MAX_TEXT] if isinstance(html, str) else ""


def plain(value: Any, limit: int = MAX_TITLE) -> str:
    return " ".join(clean(value, limit * 4).split())[:limit] if isinstance(value, str) else ""


def account(
    site: str,
    name: Any,
    *,
    profile_url: str | None = None,
    uid: Any = None,
    handle: Any = None,
    handle_host: str | None = None,
    extra: tuple[Identifier | None, ...] = (),
    platform: str = "",
) -> Account | None:
    """An author from what a forum or API gives; a placeholder name or a guest without a
    profile gives an anonymous account (a bare name, no identifier)."""
    display = clean_name(name if isinstance(name, str) else "")
    host = host_of(site if "://" in site else f"https://{site}/")
    profile = strip_session(profile_url) if isinstance(profile_url, str) else None
    ids: list[Identifier | None] = [url_identifier(profile) if profile else None]
    if uid not in (None, "", 0, "0", -1, "-1") and not isinstance(uid, bool):
        ids.append(uid_identifier(str(uid)[:40], host))
    if isinstance(handle, str) and handle and not is_placeholder_name(handle):
        ids.append(handle_identifier(handle[:100], handle_host or host))
    ids.extend(extra)
    identifiers = tuple(dict.fromkeys(i for i in ids if i is not None))
    if not display and not identifiers:
        return None
    if is_placeholder_name(display) and not profile:
        identifiers = ()  # "Guest", "[deleted]": nobody in particular
    return Account(
        site=host,
        name=display,
        identifiers=identifiers,
        profile_url=profile,
        platform=platform,
    )


def topic_page(
    posts: list[Post],
    *,
    topic_url: str,
    title: str,
    first_page: bool,
    first_post_url: str | None,
    next_url: str | None,
) -> TopicPage:
    """A topic page from its posts, as every HTML engine returns it."""
    items = thread_items(
        posts,
        topic_url=topic_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
    )
    return TopicPage(items, next_url=next_url, title=title, first_page=first_page)


def next_link(link: Any, url: str) -> str | None:
    """The URL of a `rel=next` element, without session ids."""
    return strip_session(str(link.get("href", "")), url) if link is not None else None


def thread_items(
    posts: list[Post],
    *,
    topic_url: str,
    title: str,
    first_page: bool,
    first_post_url: str | None = None,
) -> list[Item]:
    """Items for the posts of one topic page (SPEC §7 "Threads"): the topic's first post
    is its own thread with no parent and the topic title; every other post points at it
    (or at the post it quotes) and has no title of its own."""
    if first_post_url is None and first_page and posts:
        first_post_url = posts[0].url
    thread = first_post_url or topic_url
    items = []
    for post in posts:
        is_first = post.url == first_post_url
        parent = None if is_first else (post.parent_url or thread)
        if parent == post.url:
            parent = thread
        items.append(
            Item(
                url=post.url,
                title=plain(title) if is_first else post.title,
                text=post.text,
                published=post.published,
                author=post.author,
                entry_id=post.entry_id,
                thread_url=thread,
                parent_url=parent,
            )
        )
    return items


# --- dates -----------------------------------------------------------------------------------

_NUMERIC = re.compile(
    r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?!\d)"
    r"(?:[^\d]{0,12}?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?",
    re.I,
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A zone as a watchlist names it ("Europe/Paris") or as a page gives it (a tzinfo).
Zone = str | tzinfo | None


@lru_cache(maxsize=64)
def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(tz: Zone) -> tzinfo:
    """A tzinfo from a zone name (the watchlist's `timezone`) or a tzinfo; UTC for None."""
    if tz is None:
        return UTC
    return _named_zone(tz) if isinstance(tz, str) else tz


# Forum footers say in which zone their dates are printed: phpBB "All times are
# UTC+02:00" / "Alle Zeiten sind UTC+01:00", vBulletin "All times are GMT +1" / "Alle
# Zeitangaben in WEZ +1", phpBB 2 "Toutes les heures sont au format UTC + 1 heure".
_ZONE_PHRASE = re.compile(
    r"all times are|alle zeiten sind|alle zeitangaben in|toutes les heures sont"
    r"|tous les horaires sont|todas las horas son|tutti gli orari sono",
    re.I,
)
_ZONE_OFFSET = re.compile(
    r"\b(UTC|GMT|WEZ|MEZ|CET|WET)\b\s*(?:([+-\u2212])\s*(\d{1,2})(?:[:.h]?(\d{2}))?)?"
)
_ZONE_BASE = {"UTC": 0, "GMT": 0, "WEZ": 0, "WET": 0, "MEZ": 60, "CET": 60}


def page_zone(doc: Any, default: Zone = None) -> Zone:
    """The zone a forum page prints its dates in, from its footer's "All times are UTC+1"
    line; `default` (the watchlist's zone) when the page does not say."""
    for node in doc.find_all(string=_ZONE_PHRASE, limit=3):
        parent = node.parent
        text = (parent.get_text(" ", strip=True) if parent is not None else str(node))[:300]
        phrase = _ZONE_PHRASE.search(text)
        m = _ZONE_OFFSET.search(text[phrase.end() if phrase else 0 :][:40])
        if m is None:
            continue
        minutes = _ZONE_BASE[m[1]]
        if m[2]:
            sign = -1 if m[2] in "-\u2212" else 1
            minutes += sign * (int(m[3]) * 60 + int(m[4] or 0))
        if abs(minutes) < 15 * 60:
            return timezone(timedelta(minutes=minutes)) if minutes else UTC
    return default


def iso_date(value: Any, tz: Zone = None) -> datetime | None:
    """A machine date: ISO-8601 text (without a zone: read in `tz`, by default UTC), unix
    seconds or milliseconds. None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not _ISO_DAY.match(value.strip()[:10]):
        return None
    text = value.strip()[:60].replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 forms: "-0700" zones and over-long fractions
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else _localize(dt, tz)


def _localize(naive: datetime, tz: Zone) -> datetime | None:
    """A naive date read in `tz`, in UTC (UTC stays as it is)."""
    zone = zone_of(tz)
    if zone is UTC:
        return naive.replace(tzinfo=UTC)
    try:
        return naive.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def text_date(
    value: Any, now: datetime | None = None, languages: list[str] | None = None, tz: Zone = None
) -> datetime | None:
    """A date a page prints for people: "21.01.2009, 05:42", "26/10/13, 03:48 pm" (day
    first, as European forums print them), else ISO, else any language through `dateparser`.
    A date printed without a zone is read in `tz` (the page's, else the watchlist's
    zone: SPEC §7), by default UTC."""
    if not isinstance(value, str):
        return iso_date(value)
    text = " ".join(value[: MAX_DATE_TEXT * 4].replace("\xa0", " ").split())[:MAX_DATE_TEXT]
    if not text:
        return None
    if (dt := iso_date(text, tz)) is not None:
        return dt
    m = _NUMERIC.search(text)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        year += 2000 if year < 70 else 1900 if year < 100 else 0
        hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
        if m[7]:
            hour = hour % 12 + (12 if m[7].lower().startswith("p") else 0)
        if month > 12 and day <= 12:
            day, month = month, day
        try:
            return _localize(datetime(year, month, day, hour, minute, second), tz)
        except ValueError:
            return None
    return _dateparser(text, now, languages, tz)


def _dateparser(
    text: str, now: datetime | None, languages: list[str] | None, tz: Zone = None
) -> datetime | None:
    import dateparser  # lazily: it loads its language data on first use

    zone = zone_of(tz)
    # dateparser's default: aware only when the text names a zone. "Today, 09:12" is today
    # where the page's clock is.
    settings: dict[str, Any] = {
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": (now or datetime.now(UTC)).astimezone(zone).replace(tzinfo=None),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dt = dateparser.parse(text, languages=languages, settings=settings)
    except (ValueError, TypeError, OverflowError, AttributeError):
        return None
    if dt is None:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else _localize(dt, zone)


def utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(UTC) if dt is not None else None


__all__ = [
    "Listing",
    "Post",
    "TopicPage",
    "TopicRef",
    "account",
    "first",
    "html_text",
    "iso_date",
    "load_json",
    "page_zone",
    "plain",
    "query_param",
    "soup",
    "strip_session",
    "text_date",
    "text_of",
    "thread_items",
    "zone_of",
]
