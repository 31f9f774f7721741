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

import codecs
import functools
import io
import json
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    scan's entries do not name the brand: building them was half of parsing).
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
    text, data = xml_bytes(text)
    choice = os.environ.get(PARSER_ENV, "").strip().lower()
    parsed: Mapping[str, Any] | None = None
    parser = "fast"
    if choice != "feedparser":
        try:
            parsed = feed_fast.parse(data)
        except feed_fast.Unsupported:
            if choice == "fast":
                raise
    if parsed is None:
        parser = "feedparser"
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
    if not parsed.get("version"):
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
