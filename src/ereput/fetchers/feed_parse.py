"""The pure feed parser of the `feed` kind: bytes + feed URL -> items (SPEC §3, §7).

Reads RSS 0.9x/1.0/2.0 and Atom with `feed_fast` (lxml replaying feedparser's rules) and
falls back to feedparser for what it cannot replay; reads JSON Feed with `json`, and finds
the feed link of an HTML page. The body is decoded, cleaned and bounded here *before* either
XML reader sees it: they are given UTF-8 bytes only (never a URL or a path, so nothing is
fetched or opened), and over-long author runs are cut because feedparser's e-mail regex is
quadratic.

Both XML readers give feedparser-shaped dicts, and one conversion turns an entry into an
`Item` through small functions over plain values (`item_url`, `plain_text`, `read_date`,
`AuthorInfo.account`…), so the two paths give identical outputs.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import io
import itertools
import json
import os
import re
import threading
import time
import unicodedata
import xml.parsers.expat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any, NamedTuple

import feedparser
import lxml.etree
import lxml.html

from ereput.errors import ParseError
from ereput.fetchers import feed_fast
from ereput.fetchers.base import Prefilter
from ereput.identifiers import make_account
from ereput.models import Account, Item
from ereput.text import fold
from ereput.urls import MAX_URL, canonical_url, host_of, unwrap_redirect

# "feedparser" reads every RSS/Atom body with feedparser (the benchmark baseline); "fast"
# never falls back to it (feed_fast.Unsupported is raised instead); unset: fast, else fallback.
PARSER_ENV = "EREPUT_FEED_PARSER"
MAX_BODY = 16 * 1024 * 1024  # SPEC §7 body cap; the fetcher enforces it too
# Longest author/name/e-mail text run handed to feedparser: its e-mail regex is quadratic in
# a run without "@", so 256 keeps that cost below its own per-byte parsing cost.
MAX_RUN = 256
MAX_TITLE = 1_000
MAX_TEXT = 100_000
MAX_HTML = 1024 * 1024  # HTML converted to text per field
MAX_ID = 1_000
OLDEST = datetime(1990, 1, 1, tzinfo=UTC)  # earlier dates are broken placeholders (SPEC §7)
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
        "application/x-rss+xml",
        "application/x-atom+xml",
        "application/json",  # early JSON Feeds were announced as plain JSON
    }
)
_BLOCKS = (
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "section", "article", "hr", "a",
)  # fmt: skip
_XML_DECL = re.compile(r"<\?xml[^>]{0,200}\?>")
_ENCODING_DECL = re.compile(r"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.I)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Text runs of author-ish elements, cut to MAX_RUN before feedparser (see module docstring).
_AUTHOR_RUN = re.compile(
    r"(<(?:[\w.-]{1,40}:)?(?:author|name|creator|email|contributor|publisher"
    r"|managingEditor|webMaster|owner)\b[^<>]*>(?:\s*<!\[CDATA\[)?)"
    rf"([^<\]]{{{MAX_RUN + 1},}})",
    re.I,
)
# An author-ish start tag, self-closing or not: where every run `_AUTHOR_RUN` cuts starts.
_AUTHOR_TAG = re.compile(
    r"<((?:[\w.-]{1,40}:)?(?:author|name|creator|email|contributor|publisher"
    r"|managingEditor|webMaster|owner))\b[^<>]*>",
    re.I,
)
_AUTHOR_OPEN = re.compile(
    r"<((?:[\w.-]{1,40}:)?(?:author|name|creator|email|contributor|publisher"
    r"|managingEditor|webMaster|owner))\b[^<>]*(?<!/)>",
    re.I,
)
MAX_AUTHOR_CONTENT = 4 * MAX_RUN  # an author element's content, markup included
_MARKUP_PIECE = re.compile(r"<!\[CDATA\[|\]\]>|<!--.*?(?:-->|$)|<\?.*?(?:\?>|$)|<[^<>]*>", re.S)
# Reddit RSS names the submitter only in the description: "submitted by <a href=…/user/X>".
_REDDIT_USER_URL = re.compile(r"https?://(?:[\w-]+\.)*reddit\.com/(?:user|u)/([\w-]{2,64})/?")
_SUBMITTED_BY = re.compile(r"submitted\s+by\s*$", re.I)
_RFC822_LOOSE = re.compile(
    r"(\d{1,2})\.?\s+([^\W\d_]{3,12})\.?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([+-]\d{4}|GMT|UTC|UT|Z)?"
)
# Month names and abbreviations (accents folded) in pt, es, fr, de, it, nl, besides English.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan janv ene gen jän",
            "feb fev fevr febr",
            "mar mars mrz maa",
            "apr abr avr",
            "may mai mag mei",
            "jun juin giu",
            "jul juil lug",
            "aug ago aou aout",
            "sep set sept",
            "oct out okt ott",
            "nov",
            "dec dez dic",
        ),
        start=1,
    )
    for name in names.split()
}
_LOCAL = threading.local()  # lxml parsers are not shared between threads (ctx.parse may use some)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    items: list[Item] = field(default_factory=list)
    alternate: str | None = None  # an HTML page's feed link: the caller follows it once
    # Which reader gave the items of an RSS/Atom body: "fast" (feed_fast) or "feedparser";
    # "" for JSON Feed and HTML. Not compared: both readers give equal feeds.
    parser: str = field(default="", compare=False)


class AuthorInfo(NamedTuple):
    """A byline as a feed gives it, before it becomes an account on the item's site."""

    name: str = ""
    uri: str | None = None
    email: str | None = None
    avatar: str | None = None

    def account(self, site: str, base: str) -> Account | None:
        name = self.name.strip()
        if name.startswith("/u/"):  # reddit's Atom "/u/NAME": the user is NAME
            name = name[3:]
        uri = canonical_url(self.uri, base) if self.uri else None
        return make_account(
            site, name, url=uri, email=self.email, avatar=self.avatar, platform="feed"
        )


def parse_feed(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    now: datetime | None = None,
    keep: Prefilter | None = None,
) -> ParsedFeed:
    """Items of a feed body fetched from `url`; raises ParseError when it is not a feed.

    `now` (default: the current time) bounds dates: more than a day after it is unreadable.
    `keep` skips the RSS/Atom entries it refuses before their items are built (most of a
    scan's entries do not name the brand: building them was half of parsing), and those it
    would refuse whatever parsing gives are cut from the text before it is parsed at all
    (`cut_entries`).
    """
    if len(body) > MAX_BODY:
        raise ParseError(f"not a feed: body over {MAX_BODY} bytes")
    text = decode_body(body, content_type).lstrip()
    now = now or datetime.now(UTC)
    if not text:
        raise ParseError("not a feed: empty body")
    if text[0] in "{[":
        return _parse_json_feed(text, url, now)
    if text[0] != "<":
        raise ParseError("not a feed: neither XML nor JSON")
    if _root_name(text) == "html":
        return _html_alternate(text, url)
    return _parse_xml_feed(text, url, now, keep)


# --- decoding and bounding -----------------------------------------------------------------


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """The body as text: BOM, HTTP charset or XML declaration, else UTF-8; no NUL bytes.

    Invalid UTF-8 becomes U+FFFD, except in a body with no UTF-8 at all and no declared
    charset: that is a legacy 8-bit feed (uolNoticias) and reads as windows-1252.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(codec, errors="replace").replace("\x00", "")
    declared = _CHARSET.search(content_type or "") or _ENCODING_DECL.search(
        body[:512].decode("latin-1")
    )
    encoding = _codec(declared[1]) if declared else None
    if encoding and encoding.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:64]:
        encoding = None  # the label was readable as ASCII: the body is not UTF-16 after all
    try:
        text = body.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        if encoding in (None, "utf-8") and not _UTF8_MULTIBYTE.search(body):
            encoding = "cp1252"
        text = body.decode(encoding or "utf-8", errors="replace")
    return text.replace("\x00", "")


def _codec(label: str) -> str | None:
    """A Python codec for a charset label; Latin-1 and ASCII read as windows-1252 (WHATWG)."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def bound_author_runs(text: str) -> str:
    """Cut over-long text runs of author, name, creator, e-mail… elements to MAX_RUN.

    Runs split by markup (`aaa<!---->aaa`, `aaa<b/>aaa`, `aaa<?x?>aaa`) are joined again
    by the XML readers, so a leaf author element whose content is still long is flattened
    to its text and cut too."""

    if not _may_need_bounds(text):
        return text

    def cut(match: re.Match[str]) -> str:
        return match[1] + _cut_run(match[2])

    return _bound_author_elements(_AUTHOR_RUN.sub(cut, text))


def _may_need_bounds(text: str) -> bool:
    """False when neither bound can change `text` (nearly every feed), found in one pass
    over its author-ish tags instead of the two whole-text passes of the bounds (0.42 ms
    of a 68 KB feed's ~4 ms). Every match of `_AUTHOR_RUN` starts at such a tag, and
    `_bound_author_elements` changes only a non-empty element with over
    MAX_AUTHOR_CONTENT characters before its end tag; True may still change nothing."""
    for tag in _AUTHOR_TAG.finditer(text):
        if _AUTHOR_RUN.match(text, tag.start()):
            return True
        end = tag.end()
        if text[end - 2] != "/":  # not self-closing
            close = _end_tag(tag[1].lower()).search(text, end)
            if close is not None and close.start() - end > MAX_AUTHOR_CONTENT:
                return True
    return False


@functools.lru_cache(maxsize=64)
def _end_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}\s*>", re.I)


def _cut_run(run: str) -> str:
    run = run[:MAX_RUN]
    amp = run.rfind("&")
    if amp > run.rfind(";"):  # do not leave half an entity reference behind
        run = run[:amp]
    return run


def _bound_author_elements(text: str) -> str:
    """Leaf author-ish elements with over MAX_AUTHOR_CONTENT characters of content: their
    markup is dropped and the text cut to MAX_RUN (containers such as Atom's `<author>` are
    left to their children). Linear: each element's end is searched for once."""
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()  # names with no end tag after some point: none further on
    while (m := _AUTHOR_OPEN.search(text, pos)) is not None:
        name = m[1].lower()
        close = None
        if name not in unclosed:
            close = _end_tag(name).search(text, m.end())
            if close is None:
                unclosed.add(name)
        content = text[m.end() : close.start()] if close else ""
        if len(content) <= MAX_AUTHOR_CONTENT or _AUTHOR_OPEN.search(content):
            out.append(text[pos : m.end()])
            pos = m.end()
            continue
        flat = _MARKUP_PIECE.sub("", content).replace("<", "").replace(">", "")
        out.append(text[pos : m.end()] + _cut_run(flat))
        pos = close.start() if close else len(text)
    out.append(text[pos:])
    return "".join(out) if out[:-1] else text


def _root_name(text: str) -> str:
    """Local name of the first element, skipping declarations and comments (linear scan)."""
    pos = 0
    while True:
        pos = text.find("<", pos)
        if pos < 0:
            return ""
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
        elif text.startswith("<!", pos):
            end = text.find(">", pos)
        else:
            name = re.match(r"<([\w:.-]{1,100})", text[pos : pos + 102])
            return name[1].rpartition(":")[2].lower() if name else ""
        if end < 0:
            return ""
        pos = end + 1


def clean(value: Any, limit: int = MAX_TEXT) -> str:
    """A string field from hostile input: str only, no NUL, no lone surrogate, bounded."""
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        value = value[:limit]
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value if value.isascii() else _SURROGATES.sub("\ufffd", value)


# --- shared entry -> item conversion -------------------------------------------------------


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags gone, entities read, one space between words."""
    html = clean(html, MAX_HTML)
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    text = _simple_html_text(html)
    if text is not None:
        return " ".join(text.split())
    return _lxml_html_text(html)


def _lxml_html_text(html: str) -> str:
    """`html_to_text` through lxml's HTML parser: any markup."""
    root = _html_fragment(html)
    if root is None:
        return " ".join(re.sub(r"<[^<>]*>", " ", html).split())
    return " ".join(_text_of(root).split())


# The cheap reading of simple HTML (`_simple_html_text`): well-nested tags from a short list,
# plain attributes, well-formed character references. It gives what lxml gives (the tests
# compare both on the corpus and on generated fragments) and None for anything else.
_INLINE_TAGS = frozenset(
    {
        "b", "i", "em", "strong", "span", "u", "s", "small", "big", "code", "sub", "sup", "abbr",
        "cite", "q", "mark", "del", "ins", "font", "tt", "kbd", "var", "samp", "dfn", "strike",
        "time",
    }
)  # fmt: skip
_FLOW_TAGS = frozenset({"div", "blockquote", "li", "section", "article", "ul", "ol"})  # hold blocks
_PHRASE_BLOCKS = frozenset({"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})  # hold inline only
_VOID_TAGS = frozenset({"br", "hr", "img", "wbr"})
_LISTS = frozenset({"ul", "ol"})
_BLOCK_SET = frozenset(_BLOCKS)
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})"
    r"((?:[ \t\n]+[A-Za-z_][-A-Za-z0-9_.:]{0,40}"
    r"(?:[ \t\n]*=[ \t\n]*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>=`]+))?)*)[ \t\n]*(/?)>"
)
_MARKUP = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(?:([A-Za-z][A-Za-z0-9]{0,31});|#([0-9]{1,7});|#[xX]([0-9A-Fa-f]{1,6});)")
# Characters that HTML parsers may drop, replace or warn about: left to lxml.
_ODD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def _char_ref(match: re.Match[str]) -> str | None:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _HTML5_ENTITIES.get(name + ";")
    code = int(decimal, 10) if decimal is not None else int(hexadecimal, 16)
    if 0x20 <= code < 0x7F or 0xA0 <= code < 0xD800 or 0xE000 <= code < 0xFDD0:
        return chr(code)
    if 0xFDF0 <= code < 0xFFFE or (0x10000 <= code < 0x110000 and code & 0xFFFE != 0xFFFE):
        return chr(code)
    return None


def _simple_text(text: str) -> str | None:
    """Character data with its references read; None when one is not plain."""
    if "&" not in text:
        return text
    out = []
    pos = 0
    while (amp := text.find("&", pos)) >= 0:
        out.append(text[pos:amp])
        match = _CHAR_REF.match(text, amp)
        if match is None:
            following = text[amp + 1 : amp + 2]
            if following and not following.isspace():
                return None  # a bare "&" only before white space or at the end
            out.append("&")
            pos = amp + 1
            continue
        char = _char_ref(match)
        if char is None:
            return None
        out.append(char)
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _simple_html_text(html: str) -> str | None:
    """The text of simple HTML as `_lxml_html_text` reads it (before spaces are collapsed):
    block tags give a space on both sides, other tags nothing; None when not simple."""
    if _ODD_CHARS.search(html):
        return None
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    phrase = 0  # open elements that hold inline content only (p, pre, h1…)
    while (lt := html.find("<", pos)) >= 0:
        text = _simple_text(html[pos:lt]) if lt > pos else ""
        if text is None:
            return None
        if text and stack and stack[-1] in _LISTS and not text.isspace():
            return None
        out.append(text)
        if html.startswith("<!--", lt):  # a comment: dropped
            end = html.find("-->", lt + 4)
            body = html[lt + 4 : end]
            if end < 0 or body.startswith((">", "->")) or body.endswith("-") or "--" in body:
                return None
            pos = end + 3
            continue
        match = _TAG.match(html, lt)
        if match is None:
            return None
        closing, name, _, slash = match.groups()
        name = name.lower()
        pos = match.end()
        if name in _VOID_TAGS:  # an end tag of one is ignored
            if (stack and stack[-1] in _LISTS) or (name == "hr" and phrase):
                return None
            if name in _BLOCK_SET and not closing:
                out.append("  ")
            continue
        if slash:
            return None
        if closing:
            if not stack or stack[-1] != name:
                return None
            stack.pop()
            phrase -= name in _PHRASE_BLOCKS
            if name in _BLOCK_SET:
                out.append(" ")
            continue
        parent = stack[-1] if stack else ""
        if (name == "li") != (parent in _LISTS):
            return None
        if name == "a":
            if "a" in stack:
                return None
        elif name not in _INLINE_TAGS:
            if phrase or (name not in _PHRASE_BLOCKS and name not in _FLOW_TAGS):
                return None  # a block inside a paragraph: HTML parsers close the paragraph
            phrase += name in _PHRASE_BLOCKS
        stack.append(name)
        if name in _BLOCK_SET:
            out.append(" ")
    if stack:
        return None
    text = _simple_text(html[pos:])
    if text is None:
        return None
    out.append(text)
    return "".join(out)


def _html_parser() -> lxml.html.HTMLParser:
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = lxml.html.HTMLParser(
            no_network=True, remove_comments=True, remove_pis=True
        )
    return parser


def _html_fragment(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div", parser=_html_parser())
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None


def _text_of(root: lxml.html.HtmlElement) -> str:
    """The text content with a space on both sides of each block, so that words on either
    side stay apart. Read, never written back: lxml refuses to set text holding control
    characters that it parsed from character references (`&#8;`)."""
    lxml.etree.strip_elements(root, "script", "style", "template", with_tail=False)
    parts: list[str] = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        block = element.tag in _BLOCK_SET
        if event == "start":
            if block:
                parts.append(" ")
            if element.text and isinstance(element.tag, str):  # not a comment's text
                parts.append(element.text)
        elif element is not root:
            if block:
                parts.append(" ")
            if element.tail:
                parts.append(element.tail)
    return "".join(parts)


def plain_text(value: Any, is_html: bool, limit: int = MAX_TEXT) -> str:
    """A title or text as plain text, bounded."""
    text = html_to_text(value) if is_html else " ".join(clean(value, limit * 2).split())
    return text[:limit]


def item_url(candidates: Iterable[Any], base: str) -> str | None:
    """The first candidate that is an http(s) permalink, redirects unwrapped, canonical."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            url = canonical_url(unwrap_redirect(candidate.strip()), base)
            if url is not None:
                return url
    return None


def read_date(value: Any, now: datetime) -> datetime | None:
    """A timezone-aware UTC datetime from a struct_time, datetime or ISO string; None when
    unreadable, before 1990 or more than a day after `now` (SPEC §7)."""
    try:
        if isinstance(value, time.struct_time):
            value = datetime(*value[:6], tzinfo=UTC)
        elif isinstance(value, str):
            value = datetime.fromisoformat(value.strip()[:64])
        if not isinstance(value, datetime):
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    return value if OLDEST <= value <= now + timedelta(days=1) else None


def localized_rfc822(value: Any, now: datetime) -> datetime | None:
    """An RFC 822 date whose day and month names are not English ("Seg, 24 Set 2018
    19:42:40 -0300", UOL): feedparser gives up on those, the numbers are still there."""
    match = _RFC822_LOOSE.search(clean(value, 200))
    if match is None:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    folded = _fold_accents(month_name.lower())
    month = _MONTHS.get(folded) or _MONTHS.get(folded[:4]) or _MONTHS.get(folded[:3])
    if month is None:
        return None
    offset = timedelta(0)
    if zone and zone[0] in "+-":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        offset = -offset if zone[0] == "-" else offset
    try:
        local = datetime(int(year), month, int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    return read_date((local - offset).replace(tzinfo=UTC), now)


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def reddit_submitter(html: str) -> AuthorInfo | None:
    """The submitter that reddit's RSS names only in the description HTML."""
    if "submitted" not in html:
        return None
    root = _html_fragment(clean(html, MAX_HTML))
    for link in root.iter("a") if root is not None else ():
        user = _REDDIT_USER_URL.fullmatch((link.get("href") or "").strip())
        previous = link.getprevious()
        before = (previous.tail if previous is not None else link.getparent().text) or ""
        if user and _SUBMITTED_BY.search(before[-40:]):
            return AuthorInfo(name=link.text_content().strip() or user[1], uri=user[0])
    return None


def language_tag(value: Any) -> str | None:
    """The primary language subtag ("en" for "en-GB"), when it looks like one."""
    tag = clean(value, 40).strip().lower().replace("_", "-").split("-")[0]
    return tag if re.fullmatch(r"[a-z]{2,3}", tag) else None


def make_item(
    *,
    url: str,
    feed_url: str,
    title: str,
    text: str,
    published: datetime | None,
    author: AuthorInfo | None,
    entry_id: Any,
    language: str | None,
) -> Item:
    """The item, its author made an account on the item's own site."""
    entry_id = clean(entry_id, MAX_ID).strip() or None
    account = _account(author, host_of(url) or host_of(feed_url), feed_url) if author else None
    return Item(
        url=url,
        title=title,
        text=text,
        published=published,
        author=account,
        entry_id=entry_id,
        language=language,
    )


@functools.lru_cache(maxsize=4096)
def _account(author: AuthorInfo, site: str, base: str) -> Account | None:
    """`author.account(site, base)`, remembered: bylines recur within and across feeds."""
    return author.account(site, base)


# --- RSS and Atom through feedparser -------------------------------------------------------


def xml_bytes(text: str) -> tuple[str, bytes]:
    """The decoded text bounded (`bound_author_runs`), and the UTF-8 bytes the XML readers
    are given: its declaration, if any, says UTF-8."""
    text = bound_author_runs(text)
    decl = _XML_DECL.match(text)
    if decl:  # the text is decoded already: its bytes are UTF-8 whatever the declaration said
        text = '<?xml version="1.0" encoding="utf-8"?>' + text[decl.end() :]
    return text, text.encode("utf-8", errors="replace")


def _parse_xml_feed(
    text: str, url: str, now: datetime, keep: Prefilter | None = None
) -> ParsedFeed:
    """RSS or Atom: the fast reader, else feedparser (EREPUT_FEED_PARSER forces one)."""
    choice = os.environ.get(PARSER_ENV, "").strip().lower()
    parsed: Mapping[str, Any] | None = None
    parser = "fast"
    if choice != "feedparser":
        cut = cut_entries(text, keep) if keep is not None else None
        try:
            parsed = feed_fast.parse(xml_bytes(cut if cut is not None else text)[1])
        except feed_fast.Unsupported:
            if choice == "fast":
                raise
    if parsed is None:
        parser = "feedparser"
        text, data = xml_bytes(text)
        try:
            parsed = feedparser.parse(
                io.BytesIO(data),
                # No content-location: feedparser would resolve ids ("t3_abc") as relative
                # URIs too; links are resolved against the feed URL in `item_url` instead.
                response_headers={"content-type": "application/xml; charset=utf-8"},
                resolve_relative_uris=False,
                sanitize_html=False,
            )
        except Exception as exc:  # its loose parser trips on some broken markup (fuzzing
            # found KeyError in media:player, UnicodeEncodeError on `&#xD800;`)
            raise ParseError(f"not a feed: unreadable ({type(exc).__name__})") from exc
        if not parsed.get("version"):  # the fast reader always finds one
            return _html_alternate(text, url)
    feed = parsed["feed"]
    feed_author = _fp_author(feed.get("author_detail"))
    language = language_tag(feed.get("language"))
    items = []
    for entry in parsed["entries"]:
        if keep is not None and not keep(_raw_texts(entry), _raw_links(entry)):
            continue
        item = _fp_item(entry, url, feed_author, language, now)
        if item is not None:
            items.append(item)
    return ParsedFeed(title=_fp_text(feed, "title", MAX_TITLE), items=items, parser=parser)


# --- entries the scan would drop, cut before parsing ------------------------------------------
#
# Most of a scan's entries do not name the brand, and parsing them was two thirds of the
# parse worker's time. `cut_entries` removes them from the feed first: a few searches over
# its bytes tell which entries may hold a word the query needs, the others are cut, and
# what is left is a smaller feed whose every entry reads as it did in the whole one. The
# searches are `find`, `translate` and regexes that begin with a fixed byte, which run at
# memory speed: one that begins with a character class costs as much as the parsing saved.

# Entry tags, and the comments, CDATA sections and processing instructions skipped whole.
_STRUCTURE = re.compile(rb"<(?:(/?)(item|entry)([\s/>])|(!--|!\[CDATA\[|\?))")
_SECTION_ENDS = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>"}
# References, read once (XML) or twice (the HTML in a text): `_harmless` judges what each
# reads as (group 1: after `&` or `&amp;`). Skipped without a match: the five of XML, which
# read as `<`, `>` (both markup, see below), `&`, `"`, `'`, once or twice.
_REFERENCE = re.compile(
    rb"&(?!(?:lt|gt|quot|apos)(?![a-z0-9])|amp;(?:(?:lt|gt|amp|quot|apos)(?![a-z0-9])|(?![#a-z]))"
    rb"|amp(?![;a-z0-9]))(?:amp;)?(#x?[0-9a-f]*;?|[a-z][a-z0-9]*;?)?"
)
# What feedparser carries from an entry to the next ones: a namespace declared (but the one
# of XHTML content, declared alike in every entry), a base for links (it restores the
# enclosing one only when that is not empty). Such an entry is kept.
_BASE = re.compile(rb"base\s*=")
_XHTML_DECLARATION = b'xmlns="http://www.w3.org/1999/xhtml"'
# Characters a reader replaces or drops (UTF-8): DEL, C1 controls (which become
# windows-1252 letters), non-characters. Other controls are not well-formed XML.
_ODD_CHARACTERS = (
    (b"\x7f", re.compile(rb"\x7f")),
    (b"\xc2", re.compile(rb"\xc2[\x80-\x9f]")),
    (b"\xef", re.compile(rb"\xef(?:\xb7[\x90-\xaf]|\xbf[\xbe\xbf])")),
)
# An element feedparser may decode as base64: a `type` that is not text, or a `mode`. The
# regexes begin with the attribute's name, and skip the usual text types without a match.
_CONTENT_TYPES = tuple(
    re.compile(
        name + rb"""\s*=\s*(["'])(?!(?:text|html|xhtml|escaped|xml)\1|text/)"""
        rb"""(?![^"'<>]{0,256}[+/]xml\1)"""  # a longer value is doubtful
    )
    for name in (rb"type", rb"mode")
)
_NAME = re.compile(rb"[^\s/>]{1,64}")
_TYPED_LINKS = frozenset(
    {b"link", b"enclosure", b"atom:link", b"media:content", b"media:thumbnail"}
)
# Where markup begins in a text, as written or escaped once or twice, and a CDATA section's
# end: removing it may join the word before it to what follows the end of some markup:
# `>`, the `;` of `&gt;`, the `[` of `<![CDATA[`, or HTML's `&gt` read without its `;`.
_MARKUP_STARTS = (b"<", b"&lt", b"&amp;lt", b"]]>")
_MARKUP_ENDS = (b">", b";", b"[", b"gt")
_RUN = re.compile(rb"X+")
_RUNS_PER_ENTRY = 8  # non-ASCII runs looked at one by one; then the entry is folded whole
_JOINS_PER_ENTRY = 256  # needle beginnings before markup looked at; then the entry is kept
# Longer references are doubtful without a look (HTML reads names of up to 32 letters); the
# others are judged once each (`_harmless` keeps them).
_LONGEST_REFERENCE = 34
_CACHED_RUN = 64  # longer non-ASCII runs are folded each time, not kept
#: Needles: `keep.raw_needles(count)` (`services.select.Keep`).
RawNeedles = Callable[[Callable[[str], int]], frozenset[str] | None]


def cut_entries(text: str, keep: Prefilter) -> str | None:
    """`text` without the RSS items and Atom entries that `keep` would refuse whatever their
    parsing gives, or None when it cannot be sure of any (then the whole feed is parsed).

    An entry is cut when its raw markup holds none of the needles `keep.raw_needles` gives,
    as written or with letters that fold into one (`Acmé`, `ＡＣＭＥ`), and nothing parsing
    could turn into one (`_doubtful`): a reference that reads as a letter, as nothing or as
    markup, once or twice read (`&#65;`, `&amp;eacute;`, `&shy;`); a character readers
    replace; base64 content; a needle's beginning right before markup whose rest follows
    some markup (`Ac<b>me`, `Ac]]><![CDATA[me`). Entries are found as an XML reader
    tokenizes (comments, CDATA sections and processing instructions skipped whole); one is
    cut only when the next element is an entry too, and not when it holds what feedparser
    carries to the next entries (a namespace, a base for links); the last one never; and
    only in a text that expat finds well-formed, as feedparser needs to read it strictly.
    """
    raw_needles: RawNeedles | None = getattr(keep, "raw_needles", None)
    if raw_needles is None:
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the readers replace it
        return None
    spans = _entry_spans(data)
    if len(spans) < 2:
        return None
    low = data.lower()
    if b"<!doctype" in low[: spans[0][0]]:
        return None  # it may declare entities, or attributes an entry does not show
    # Needles are chosen by how often they occur in the feed's first 16 KB.
    needles = raw_needles(lambda word: low.count(word.encode("utf-8"), 0, 16384))
    if not needles:
        return None
    bounds = [b for span in spans for b in span]
    held = _doubtful(data, low, bounds)
    held.add(len(spans) - 1)  # the last entry is never cut: what follows it is not an entry
    _holding(data, low, bounds, frozenset(n.encode("utf-8") for n in needles), held)
    kept: list[bytes] = []
    pos = 0
    for i, ((start, end), (following, _)) in enumerate(itertools.pairwise(spans)):
        if i in held or data[end:following].strip():
            continue
        kept.append(data[pos:start])
        pos = end
    if not kept or not _well_formed(data):
        return None
    kept.append(data[pos:])
    return b"".join(kept).decode("utf-8")


def _entry_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every item and entry element, in order, as an XML reader finds them
    (comments, CDATA sections and processing instructions skipped); [] when one holds
    another, has no end tag, or ends with the other's tag, or a section does not close."""
    spans: list[tuple[int, int]] = []
    start = -1
    kind = b""
    pos = 0
    while (m := _STRUCTURE.search(data, pos)) is not None:
        pos = m.end()
        if m[4]:
            close = data.find(_SECTION_ENDS[m[4]], pos)
            if close < 0:
                return []
            pos = close + len(_SECTION_ENDS[m[4]])
        elif not m[1]:
            if start >= 0:
                return []
            start, kind = m.start(), m[2]
        else:
            close = data.find(b">", pos - 1)
            if start < 0 or m[2] != kind or close < 0 or data[pos - 1 : close].strip():
                return []
            spans.append((start, close + 1))
            start, pos = -1, close + 1
    return [] if start >= 0 else spans


def _entry_at(bounds: list[int], pos: int) -> int | None:
    """The index of the entry holding byte `pos` (bounds: start, end, start, end…)."""
    i = bisect.bisect_right(bounds, pos)
    return i // 2 if i % 2 else None


def _doubtful(data: bytes, low: bytes, bounds: list[int]) -> set[int]:
    """Entries whose text parsing may change beyond case and accents (references, odd
    characters, attributes of the XML namespace, base64): they are parsed, whatever they
    hold."""
    positions = [
        m.start()
        for m in _REFERENCE.finditer(low)
        if m[1] is not None
        and (len(m[1]) > _LONGEST_REFERENCE or not _harmless(b"&" + data[m.start(1) : m.end(1)]))
    ]
    for marker, odd in _ODD_CHARACTERS:  # each regex runs only where its first byte is
        if marker in data:
            positions += (m.start() for m in odd.finditer(data))
    declared = [pos for pos in _occurrences(low, b"xmlns") if pos > bounds[0]]
    if declared and low.count(b"1999/xhtml") == data.count(_XHTML_DECLARATION):
        declared = [pos for pos in declared if not data.startswith(_XHTML_DECLARATION, pos)]
    positions += declared
    positions += (m.start() for m in _BASE.finditer(low))
    for attribute in _CONTENT_TYPES:
        for m in attribute.finditer(low):
            tag = low.rfind(b"<", max(m.start() - 1024, 0), m.start())  # bounded: hostile
            element = _NAME.match(low, tag + 1) if tag >= 0 else None  # bodies repeat it
            if low[m.start() - 1 : m.start()].isspace() and (
                element is None or element[0] not in _TYPED_LINKS
            ):
                positions.append(m.start())
    found = {_entry_at(bounds, pos) for pos in positions}
    return {entry for entry in found if entry is not None}


@functools.lru_cache(maxsize=4096)
def _harmless(reference: bytes) -> bool:
    """Whether a reference as written (`&#8217;`, `&eacute;`, `&nbsp`) reads, as XML or as
    HTML, as text that can neither be a word's letter nor join two (`&shy;`), nor make
    more markup or references (`&#60;`, `&#38;`). What HTML leaves as written (`&utm`, of
    a link's query) is harmless: it is searched as written."""
    ref = reference.decode("ascii")
    values = [unescape(ref)]
    if ref.startswith("&#"):
        digits = ref[2:].rstrip(";")
        try:
            code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
        except ValueError:
            return False
        if (
            (code < 0x20 and code not in (9, 10, 13))
            or 0x7F <= code < 0xA0  # DEL, C1 (read as windows-1252 letters)
            or 0xD800 <= code < 0xE000
            or 0xFDD0 <= code < 0xFDF0
            or code & 0xFFFE == 0xFFFE
            or code > 0x10FFFF
        ):
            return False
        values.append(chr(code))
    for value in values:
        if value == ref:
            continue
        tail = 0  # of the name, left as written (`&copyright` reads as `©right`)
        while tail < min(len(ref), len(value)) and ref[-1 - tail] == value[-1 - tail]:
            tail += 1
        folded = fold(value[: len(value) - tail])
        if not folded or any(c.isalnum() or c in "_&<>;#[]" for c in folded):
            return False
    return True


def _occurrences(data: bytes, word: bytes) -> list[int]:
    found = []
    pos = data.find(word)
    while pos >= 0:
        found.append(pos)
        pos = data.find(word, pos + 1)
    return found


def _holding(
    data: bytes, low: bytes, bounds: list[int], needles: frozenset[bytes], held: set[int]
) -> None:
    """Adds to `held` the entries where a needle may be read: as written (lower-cased),
    split by markup, or with letters that fold to it (`Acmé`: the text around each
    non-ASCII run, folded)."""
    for needle in needles:
        pos = low.find(needle)
        while pos >= 0:
            entry = _entry_at(bounds, pos)
            if entry is not None:
                held.add(entry)
                pos = bounds[2 * entry + 1]  # on to the next entry
            pos = low.find(needle, pos + 1)
    if len(held) * 2 == len(bounds):
        return
    # One translation gives each byte a class: `E` ends a beginning of a needle, `M` may
    # start markup, `X` is not ASCII, `.` is anything else. `find` then looks for pairs.
    classes = low.translate(_classes(needles))
    splitting = [w for w in needles if len(w) > 1]
    splits: dict[int, set[bytes]] = {}  # entry -> the rests of needles split in it
    joins: dict[int, int] = {}  # entry -> beginnings before markup looked at
    pos = classes.find(b"EM") if splitting else -1
    while pos >= 0:
        join = pos + 1
        entry = _entry_at(bounds, join)
        if entry is not None and entry not in held and low.startswith(_MARKUP_STARTS, join):
            joins[entry] = joins.get(entry, 0) + 1
            if joins[entry] > _JOINS_PER_ENTRY:  # hostile markup (`a<a<a<…`): kept, parsed
                held.add(entry)
                splits.pop(entry, None)
            else:
                splits.setdefault(entry, set()).update(
                    w[k:]
                    for w in splitting
                    for k in range(1, len(w))
                    if low.endswith(w[:k], 0, join)
                )
        if entry is not None and entry in held:
            join = bounds[2 * entry + 1]
        pos = classes.find(b"EM", join)
    for entry, rests in splits.items():
        start, end = bounds[2 * entry], bounds[2 * entry + 1]
        if any(_goes_on(rest, low, start, end) for rest in rests) or (
            rests
            and _runs_may_join(data, low, classes, start, end, rests)
            and _folded_join(data[start:end], splitting)
        ):
            held.add(entry)
    if data.isascii():
        return
    # The text around each non-ASCII run, folded: a needle it helps make is within `reach`
    # bytes of it (a letter is at most 4 bytes), and so is the markup splitting one. An
    # entry with many runs (French, Russian) is folded whole instead, once.
    reach = 4 * max(map(len, needles)) + 2
    current, runs = -1, 0
    pos = classes.find(b"X")
    while pos >= 0:
        entry = _entry_at(bounds, pos)
        if entry is None:
            pos = classes.find(b"X", pos + 1)
            continue
        start, stop = bounds[2 * entry], bounds[2 * entry + 1]
        if entry in held:
            pos = classes.find(b"X", stop)
            continue
        if entry != current:
            current, runs = entry, 0
        runs += 1
        if runs > _RUNS_PER_ENTRY:
            if _may_hold(_fold_bytes(data[start:stop]), needles):
                held.add(entry)
            pos = classes.find(b"X", stop)
            continue
        run = _RUN.match(classes, pos)
        end = run.end() if run else pos + 1
        if _may_fold_into(data[pos:end], needles):
            window = low[max(pos - reach, 0) : end + reach]  # a character cut at an end
            if _may_hold(_fold_bytes(window, "ignore"), needles):  # is dropped
                held.add(entry)  # a split here is not followed further: the window is short
        pos = classes.find(b"X", end)


def _may_hold(folded: bytes, needles: frozenset[bytes]) -> bool:
    """Whether folded text holds a needle, or a needle's beginning right before markup."""
    return any(w in folded or _splitter(w).search(folded) for w in needles)


def _runs_may_join(
    data: bytes, low: bytes, classes: bytes, start: int, end: int, rests: set[bytes]
) -> bool:
    """Whether folding the non-ASCII runs between `start` and `end` may change what follows
    the end of some markup: a run folds to nothing or to markup, or sits just after markup
    and folds to letters that begin one of `rests`."""
    letters = {c for rest in rests for c in rest[:2]}
    pos = classes.find(b"X", start, end)
    while pos >= 0:
        run = _RUN.match(classes, pos)
        stop = run.end() if run else pos + 1
        folded = _folded(data[pos:stop])
        if not folded or any(c in folded for c in b"<>&;[]gt"):
            return True
        before = low[max(pos - 4, start) : pos]
        if any(c in letters for c in folded) and any(mark in before for mark in _MARKUP_ENDS):
            return True
        pos = classes.find(b"X", stop, end)
    return False


def _may_fold_into(run: bytes, needles: frozenset[bytes]) -> bool:
    """Whether a non-ASCII run, folded, may be part of a needle or join two parts of one:
    it folds to nothing, or to text overlapping a needle (with ASCII needles, a run that
    stays Cyrillic or Chinese once folded does not)."""
    if len(run) > _CACHED_RUN:
        return _fold_overlaps(run, needles)
    return _fold_overlaps_cached(run, needles)


def _fold_overlaps(run: bytes, needles: frozenset[bytes]) -> bool:
    folded = _folded(run)
    if not folded or not all(w.isascii() for w in needles):
        return True  # it may join two parts of a needle; or a needle has such letters
    return any(
        folded in w
        or w in folded
        or any(folded.endswith(w[:i]) or folded.startswith(w[-i:]) for i in range(1, len(w)))
        for w in needles
    )


_fold_overlaps_cached = functools.lru_cache(maxsize=4096)(_fold_overlaps)


def _folded(run: bytes) -> bytes:
    """A non-ASCII run, folded (the same few short runs recur: accented names)."""
    return _fold_bytes(run) if len(run) > _CACHED_RUN else _fold_run(run)


def _fold_bytes(text: bytes, errors: str = "strict") -> bytes:
    return fold(text.decode("utf-8", errors)).encode("utf-8")


_fold_run = functools.lru_cache(maxsize=1024)(_fold_bytes)


@functools.lru_cache(maxsize=64)
def _classes(needles: frozenset[bytes]) -> bytes:
    table = bytearray(b"." * 256)
    for word in needles:
        for k in range(1, len(word)):
            table[word[k - 1]] = ord("E")
    table[0x80:] = b"X" * 0x80  # a non-ASCII needle: a run's window finds its splits
    for byte in b"<&]":
        table[byte] = ord("M")
    return bytes(table)


@functools.lru_cache(maxsize=1024)
def _splitter(word: bytes) -> re.Pattern[bytes]:
    """The beginnings of `word`, longest first, right before markup."""
    beginnings = b"|".join(re.escape(word[:k]) for k in range(len(word) - 1, 0, -1))
    return re.compile(b"(?:" + beginnings + rb")(?=<|&lt|&amp;lt|\]\]>)")


def _goes_on(rest: bytes, low: bytes, start: int, end: int) -> bool:
    """Whether `rest`, the end of a needle whose beginning is right before markup, may
    follow the end of some markup between `start` and `end`: whole, or its first letters
    up to more markup. Anywhere in the entry, not only after the beginning: the prefilter
    reads an entry's texts joined in its own order, and a tag may open in one and close in
    another."""
    return _after_markup(rest).search(low, start, end) is not None


@functools.lru_cache(maxsize=1024)
def _after_markup(rest: bytes) -> re.Pattern[bytes]:
    """The end of some markup, then `rest` as far as the next markup."""
    ends = b"|".join(re.escape(e) for e in _MARKUP_ENDS)
    follows = re.escape(rest[:2])
    if len(rest) > 1:
        follows += b"|" + re.escape(rest[:1]) + rb"[<&\]]"
    return re.compile(b"(?:" + ends + b")(?:" + follows + b")")


def _folded_join(entry: bytes, words: list[bytes]) -> bool:
    """The join test for an entry with non-ASCII text, on its folded form (`Ac<b＞me`)."""
    folded = _fold_bytes(entry)
    return any(
        _goes_on(w[len(m[0]) :], folded, 0, len(folded))
        for w in words
        for m in _splitter(w).finditer(folded)
    )


def _well_formed(data: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate("utf-8", namespace_separator=" ")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def _raw_texts(entry: Mapping[str, Any]) -> list[str]:
    """Every string `_fp_item` may read an item's title and text from, as the feed has it."""
    values = [entry.get("title"), entry.get("summary")]
    details = (entry.get("title_detail"), entry.get("summary_detail"))
    values += (d.get("value") for d in details if d)
    values += (c.get("value") for c in entry.get("content") or ())
    # Each once: a detail's value is mostly its plain key's again, and the prefilter reads
    # every character it is given.
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and v))


def _raw_links(entry: Mapping[str, Any]) -> list[str]:
    values = (entry.get("feedburner_origlink"), entry.get("link"), entry.get("id"))
    return [v for v in values if isinstance(v, str) and v]


def _fp_item(
    entry: dict[str, Any],
    feed_url: str,
    feed_author: AuthorInfo | None,
    language: str | None,
    now: datetime,
) -> Item | None:
    entry_id = entry.get("id")
    url = item_url(
        (
            entry.get("feedburner_origlink"),
            entry.get("link"),
            entry_id if entry.get("guidislink", True) else None,
        ),
        feed_url,
    )
    if url is None:
        return None
    content = entry.get("content") or []
    body = max(content, key=lambda c: len(c.get("value") or ""), default=None)
    summary = entry.get("summary_detail") or {"value": entry.get("summary"), "type": "text/html"}
    text_detail = body or summary
    author = _fp_author(entry.get("author_detail"))
    if author is None:
        author = reddit_submitter(clean(summary.get("value"), MAX_HTML)) or feed_author
    return make_item(
        url=url,
        feed_url=feed_url,
        title=_fp_text(entry, "title", MAX_TITLE),
        text=plain_text(text_detail.get("value"), _is_html(text_detail)),
        published=_fp_date(entry, now),
        author=author,
        entry_id=entry_id,
        language=language,
    )


def _fp_date(entry: dict[str, Any], now: datetime) -> datetime | None:
    """published, else updated; a date feedparser could not read gets one more chance.

    `dict.get`: FeedParserDict maps a missing `updated` to `published` with a warning."""
    parsed = feed_fast.resolve(dict.get(entry, "published_parsed"))
    parsed = parsed or feed_fast.resolve(dict.get(entry, "updated_parsed"))
    if parsed:
        return read_date(parsed, now)
    raw = dict.get(entry, "published") or dict.get(entry, "updated")
    return localized_rfc822(raw, now) if raw else None


def _fp_text(node: Mapping[str, Any], key: str, limit: int) -> str:
    detail = node.get(f"{key}_detail") or {}
    return plain_text(node.get(key), _is_html(detail), limit)


def _is_html(detail: Mapping[str, Any]) -> bool:
    return "html" in str(detail.get("type") or "")


def _fp_author(detail: Mapping[str, Any] | None) -> AuthorInfo | None:
    """feedparser's author_detail (name, href, email); None when all are empty (Google
    Alerts' `<author><name/></author>`)."""
    if not detail:
        return None
    info = AuthorInfo(
        name=clean(detail.get("name"), MAX_RUN),
        uri=clean(detail.get("href"), MAX_URL + 1) or None,
        email=clean(detail.get("email"), MAX_RUN) or None,
    )
    return info if (info.name.strip() or info.uri or info.email) else None


# --- JSON Feed -----------------------------------------------------------------------------


def _parse_json_feed(text: str, url: str, now: datetime) -> ParsedFeed:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError("not a feed: invalid JSON") from exc
    if not isinstance(data, dict) or "jsonfeed.org/version/" not in clean(data.get("version")):
        raise ParseError("not a feed: JSON that is not a JSON Feed")
    feed_author = _json_author(data)
    language = language_tag(data.get("language"))
    items = []
    raw_items = data.get("items")
    for raw in raw_items if isinstance(raw_items, list) else ():
        if not isinstance(raw, dict):
            continue
        raw_id = raw.get("id")
        absolute_id = raw_id if isinstance(raw_id, str) and "://" in raw_id else None
        item_link = item_url((raw.get("url"), raw.get("external_url"), absolute_id), url)
        if item_link is None:
            continue
        html = raw.get("content_html")
        if isinstance(html, str) and html.strip():
            text = plain_text(html, True)
        else:
            text = plain_text(raw.get("content_text") or raw.get("summary"), False)
        items.append(
            make_item(
                url=item_link,
                feed_url=url,
                title=plain_text(raw.get("title"), False, MAX_TITLE),
                text=text,
                published=read_date(raw.get("date_published") or raw.get("date_modified"), now),
                author=_json_author(raw) or feed_author,
                entry_id=str(raw_id) if isinstance(raw_id, str | int) else None,
                language=language_tag(raw.get("language")) or language,
            )
        )
    return ParsedFeed(title=plain_text(data.get("title"), False, MAX_TITLE), items=items)


def _json_author(node: Mapping[str, Any]) -> AuthorInfo | None:
    """The first author of a JSON Feed object: `authors` (1.1) else `author` (1.0)."""
    authors = node.get("authors")
    candidates = [*(authors if isinstance(authors, list) else []), node.get("author")]
    for raw in candidates:
        if not isinstance(raw, dict):
            continue
        info = AuthorInfo(
            name=clean(raw.get("name"), MAX_RUN),
            uri=clean(raw.get("url"), MAX_URL + 1) or None,
            avatar=clean(raw.get("avatar"), MAX_URL + 1) or None,
        )
        if info.name.strip() or info.uri:
            return info
    return None


# --- HTML: feed auto-discovery -------------------------------------------------------------


def _html_alternate(text: str, url: str) -> ParsedFeed:
    """An HTML page: its `<link rel="alternate">` feed, else ParseError (SPEC §7)."""
    try:
        doc = lxml.html.document_fromstring(_XML_DECL.sub("", text, count=1), parser=_html_parser())
    except (lxml.etree.ParserError, ValueError, TypeError) as exc:
        raise ParseError("not a feed: unreadable markup") from exc
    base_href = doc.xpath("string(//base/@href)")
    base = canonical_url(base_href, url) or url if base_href else url
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = canonical_url(link.get("href") or "", base)
        if "alternate" in rel and kind in FEED_TYPES and href:
            title = doc.find(".//title")
            name = plain_text(title.text_content(), False, MAX_TITLE) if title is not None else ""
            return ParsedFeed(title=name, items=[], alternate=href)
    raise ParseError("not a feed: an HTML page without a feed link")
