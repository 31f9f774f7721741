"""The pure parsers of the `blog` kind: bytes + URL -> a post and its comment thread.

A blog page is read once with lxml and searched for, in order: microformats (`h-entry` with
`h-cite`/`h-entry` comments, through mf2py), the comment markup of WordPress themes (Twenty
Ten to Twenty Twenty-Five and the common others: `li#comment-N`, `comment-author vcard`,
`fn`, `says`, `comment-body`, `children` lists, `depth-N`; pingbacks and trackbacks left
out), Blogger (`li.comment#cN` with `showComment=` epoch-ms permalinks) and the comment
markup of other engines (SPIP `forum-qui`, Drupal `comment-by-anonymous`, Substack, `<cite>`,
`strong`, `li.comment-author`, headings). The post's own byline comes from schema.org JSON-LD
(Yoast `@id` references resolved), microformats, the visible byline, then `<meta>`.

Every comment is an `Item` whose `url` is its permalink (`post#comment-N`), `thread_url` the
post and `parent_url` the comment it answers, else the post. Comments have no title of their
own unless the platform gives them one (SPIP forum messages do); their text is their own
words only. The WordPress REST API answers and comment feeds are read here too.

Everything here is a module-level function over bytes and strings: the scan runs them in
worker processes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import lxml.etree
import lxml.html

from ereput.errors import ParseError
from ereput.fetchers import twitter
from ereput.fetchers.feed_parse import (
    FEED_TYPES,
    MAX_TEXT,
    MAX_TITLE,
    clean,
    html_to_text,
    language_tag,
    parse_feed,
    read_date,
)
from ereput.identifiers import MAX_NAME, avatar_identifier, clean_name, make_account, uid_identifier
from ereput.models import Account, Item
from ereput.urls import canonical_url, host_of

MAX_PAGE = 4 * 1024 * 1024  # HTML bytes parsed per page; more is cut (before any parsing)
MAX_JSON = 8 * 1024 * 1024  # a REST API answer
MAX_COMMENTS = 2_000  # per page
MAX_LINKS = 200  # post links kept from a home page
MAX_DATE_TEXT = 120
ENGINES = ("auto", "wordpress", "blogger", "generic")

# --- small helpers -------------------------------------------------------------------------

_COMMENT_ID = re.compile(r"(?:li-|div-)?comment-?(\d{1,20})")
_BLOGGER_ID = re.compile(r"c(\d{6,25})")
_ANCHOR_ID = re.compile(r"(?:comment-?|forum)(\d{1,20})")
_DEPTH = re.compile(r"\bdepth-(\d{1,3})\b")
_SHOW_COMMENT = re.compile(r"[?&]showComment=(\d{10,16})")
_LIKE_ID = re.compile(r"-(\d{1,20})(?:-\d{1,20})?$")
_GRAVATAR_URL = re.compile(r"https?://[\w.-]*gravatar\.com/avatar/[0-9a-fA-F]{32,64}[^\s'\"<>]*")
_SAYS = re.compile(r"\s*(?:says|sagt|dit|dice|zegt|diz|scrive)\s*:?\s*$", re.I)
_BYLINE = re.compile(
    r"^\s*(?:par|by|von|por|di|door)\s+(.{1,200}?)(?:,?\s+(?:le|on|am|el|il)\s+.*)?$", re.I | re.S
)
_AUTHOR_DATE = re.compile(r"^\s*(.{1,200}?)\s+[-–—]\s+((?:le|on|am)\s+.*)$", re.I | re.S)
_HOUR_H = re.compile(r"(\d{1,2})\s*h\s*(\d{2})(?:\s*min)?\b", re.I)
_NOISE = re.compile(r"[()\[\]@|]|\b(?:Uhr|um|à|at|le|am|o)\b\.?|,", re.I)
_PLACEHOLDER_NAMES = frozenset({"unknown"})
_ROOT_PATHS = ("", "/", "/index.html", "/index.php")
_PAGE_TZ = re.compile(r"[+-]\d{2}:?\d{2}$|Z$")
_TEXT_CLASSES = (
    "comment-content", "comment-text", "comment-texte", "forum-texte", "contenttext",
    "comment-entry", "mo-comment-content", "e-content", "comment_text", "commentcontent",
    "wp-block-comment-content",
)  # fmt: skip
_META_CLASSES = (
    "comment-time", "comment-date", "comment-metadata", "commentmetadata", "datetime",
    "commentlink", "forum-nav", "submitted", "comment-meta", "comment-info", "date",
)  # fmt: skip
_BLOCKS = ("p", "div", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "tr", "ul", "ol")


def _classes(el: Any) -> set[str]:
    return set((el.get("class") or "").split()) if isinstance(el.tag, str) else set()


def _text(el: Any, limit: int = MAX_TEXT) -> str:
    """Visible text of an element: blocks kept apart, one space between words, bounded."""
    parts: list[str] = []
    size = 0
    for piece in _text_pieces(el):
        parts.append(piece)
        size += len(piece)
        if size > limit * 2:
            break
    return " ".join(" ".join(parts).split())[:limit]


def _text_pieces(el: Any) -> Iterator[str]:
    if not isinstance(el.tag, str) or el.tag in ("script", "style", "template", "noscript"):
        return
    if el.text:
        yield el.text
    for child in el:
        if isinstance(child.tag, str) and child.tag in _BLOCKS:
            yield " "
        yield from _text_pieces(child)
        if child.tail:
            yield child.tail


def _same_site(url: str | None, page: str) -> bool:
    if not url:
        return False
    a, b = host_of(url), host_of(page)
    return bool(a) and (a == b or a.removeprefix("www.") == b.removeprefix("www."))


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=""))


def _is_root(url: str | None) -> bool:
    return url is not None and urlsplit(url).path in _ROOT_PATHS and not urlsplit(url).query


# --- dates ---------------------------------------------------------------------------------


def parse_date_text(
    text: str,
    *,
    languages: tuple[str, ...] = (),
    tz: tzinfo | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """A date as a blog prints it ("1 février 2011 à 14:02", "17 novembre 2026 à 9 h 12
    min", "10. September 2017 um 18:12", "il y a 3 jours") in UTC; None when unreadable.

    Read in `tz`: the page's zone when it gives one, else the watchlist's (the caller
    decides); UTC when None.
    """
    now = now or datetime.now(UTC)
    text = clean(text, MAX_DATE_TEXT * 4)
    text = " ".join(text.split())[:MAX_DATE_TEXT]
    if not text or not re.search(r"\d|ago|hier|yesterday|gestern|il y a|vor ", text, re.I):
        return None
    iso = read_date(text, now) if re.match(r"\d{4}-\d{2}-\d{2}", text) else None
    if iso is not None:
        return iso
    text = _HOUR_H.sub(r"\1:\2", text)
    text = re.sub(r"(\d)\s*@\s*(\d)", r"\1 \2", text)
    text = " ".join(_NOISE.sub(" ", text).split())
    import dateparser  # slow to import: only when a page prints its dates as text

    settings: dict[str, Any] = {
        "RETURN_AS_TIMEZONE_AWARE": False,
        "RELATIVE_BASE": now.astimezone(tz or UTC).replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
    }
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}.*", text):
        settings["DATE_ORDER"] = "DMY"
    langs = [lang for lang in languages if lang] or None
    try:
        value = dateparser.parse(text, languages=langs, settings=settings)
        if value is None and langs:
            value = dateparser.parse(text, settings=settings)
    except (ValueError, OverflowError, TypeError, KeyError, AttributeError):
        return None
    if value is None:
        return None
    value = value.replace(tzinfo=tz or UTC) if value.tzinfo is None else value
    return read_date(value, now)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _page_tz(doc: Any) -> tzinfo | None:
    """The page's UTC offset, from a machine date it gives with one (article times)."""
    for value in doc.xpath(
        "//meta[@property='article:published_time']/@content|//time/@datetime"
        "|//meta[@itemprop='datePublished']/@content"
    )[:20]:
        value = str(value).strip()
        match = _PAGE_TZ.search(value)
        if match and len(value) >= 16:
            try:
                dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if dt.tzinfo is not None:
                offset = dt.utcoffset() or timedelta(0)
                return timezone(offset) if offset else UTC
    return None


# --- the page ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlogPage:
    """What one blog page says: the post (if it is a post page), its comments, and where
    the blog offers more (feeds, the WordPress REST API, links to posts)."""

    url: str  # the post's URL (or the page's, for a home page)
    engine: str  # "wordpress" | "blogger" | "generic"
    post: Item | None = None
    comments: list[Item] = field(default_factory=list)
    feeds: tuple[str, ...] = ()  # same-site feed links, in page order
    comment_feed: str | None = None
    api_root: str | None = None  # WordPress REST root (same site only)
    wp_post_id: int | None = None
    post_links: tuple[str, ...] = ()  # on a home page: same-site links to posts

    @property
    def items(self) -> list[Item]:
        return ([self.post] if self.post else []) + self.comments


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page as text: BOM, HTTP charset, `<meta charset>`, else detected (UnicodeDammit
    checks each declaration by decoding, so a mislabelled page is read as what it is)."""
    from bs4.dammit import UnicodeDammit

    body = body[:MAX_PAGE]
    declared = re.search(r"charset\s*=\s*[\"']?([\w.:-]{1,40})", content_type or "", re.I)
    known = [declared[1]] if declared else []
    dammit = UnicodeDammit(body, known_definite_encodings=known, is_html=True)
    text = dammit.unicode_markup
    if text is None:
        text = body.decode("utf-8", errors="replace")
    return text.replace("\x00", "")


def _document(text: str) -> Any:
    text = re.sub(r"^\s*<\?xml[^>]{0,200}\?>", "", text)
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        doc = lxml.html.document_fromstring(text or "<html></html>", parser=parser)
    except (lxml.etree.ParserError, ValueError, TypeError) as exc:
        raise ParseError("unreadable HTML") from exc
    return doc


def parse_blog_page(
    body: bytes,
    url: str,
    content_type: str | None = None,
    engine: str = "auto",
    zone: str = "UTC",
    *,
    now: datetime | None = None,
) -> BlogPage:
    """The post and comments of a blog page fetched from `url` (engine: auto-detected).

    A date the page prints without a zone is read in the page's own (from its machine
    dates), else in `zone`, the watchlist's (SPEC §7)."""
    now = now or datetime.now(UTC)
    doc = _document(decode_html(body, content_type))
    page_url = canonical_url(url) or url
    base = page_url
    base_href = doc.xpath("string(//base/@href)")
    if base_href:
        base = canonical_url(base_href, page_url) or page_url
    if engine == "auto":
        engine = _detect_engine(doc, page_url)
    lang = language_tag(
        doc.get("lang") or doc.xpath("string(//meta[@property='og:locale']/@content)")
    )
    ctx = _Ctx(
        page=page_url,
        base=base,
        site=host_of(page_url),
        languages=(lang,) if lang else (),
        tz=_page_tz(doc) or _zone(zone),
        now=now,
        language=lang,
    )
    post_url = _post_url(doc, ctx)
    ctx.post = post_url
    comments = _mf2_comments(doc, ctx, body) or _markup_comments(doc, ctx)
    is_post = bool(comments) or _looks_like_post(doc)
    post = _post_item(doc, ctx) if is_post else None
    feeds, comment_feed = _feed_links(doc, ctx)
    api = None
    for href in doc.xpath("//link[@rel='https://api.w.org/']/@href")[:3]:
        candidate = canonical_url(str(href), base)
        if candidate and _same_site(candidate, page_url):
            api = candidate
            break
    return BlogPage(
        url=ctx.post,
        engine=engine,
        post=post,
        comments=comments[:MAX_COMMENTS],
        feeds=feeds,
        comment_feed=comment_feed,
        api_root=api,
        wp_post_id=_wp_post_id(doc),
        post_links=() if is_post else _post_links(doc, ctx),
    )


@dataclass
class _Ctx:
    page: str
    base: str
    site: str
    languages: tuple[str, ...]
    tz: tzinfo | None
    now: datetime
    language: str | None
    post: str = ""


def _detect_engine(doc: Any, url: str) -> str:
    generator = " ".join(doc.xpath("//meta[@name='generator']/@content")[:3]).lower()
    host = host_of(url)
    if (
        "blogger" in generator
        or host.endswith(".blogspot.com")
        or doc.xpath("//link[contains(@href,'/feeds/posts/default')]")
    ):
        return "blogger"
    if "wordpress" in generator or doc.xpath(
        "//link[@rel='https://api.w.org/']|//*[contains(@class,'wp-block') or "
        "starts-with(@id,'wp-')]"
    ):
        return "wordpress"
    return "generic"


def _post_url(doc: Any, ctx: _Ctx) -> str:
    """The canonical link when it names this site, else the page's own URL."""
    for href in doc.xpath("//link[@rel='canonical']/@href")[:2]:
        candidate = canonical_url(str(href), ctx.base)
        if candidate and (_same_site(candidate, ctx.page) or not ctx.page.startswith("http")):
            return _without_fragment(candidate)
    return _without_fragment(ctx.page)


def _looks_like_post(doc: Any) -> bool:
    og_type = doc.xpath("string(//meta[@property='og:type']/@content)").strip().lower()
    if og_type == "article":
        return True
    body_class = set(doc.xpath("string(//body/@class)").split())
    if body_class & {"single", "single-post", "item-view", "node-type-article", "postpage"}:
        return True
    entries = doc.xpath("//*[contains(concat(' ',normalize-space(@class),' '),' h-entry ')]")
    if len(entries) == 1:
        return True
    microdata = doc.xpath(
        "//*[contains(@itemtype,'schema.org/BlogPosting') or "
        "contains(@itemtype,'schema.org/Article') or contains(@itemtype,'schema.org/NewsArticle')]"
    )
    if len(microdata) == 1:
        return True
    return any(
        kind in ("Article", "BlogPosting", "NewsArticle", "Report")
        for node in _jsonld_nodes(doc)
        for kind in _types(node)
    )


def _wp_post_id(doc: Any) -> int | None:
    for href in doc.xpath(
        "//link[@rel='alternate' and contains(@href,'/wp/v2/posts/')]/@href"
        "|//link[@rel='shortlink']/@href"
    )[:3]:
        match = re.search(r"/wp/v2/posts/(\d{1,12})|[?&]p=(\d{1,12})", str(href))
        if match:
            return int(match[1] or match[2])
    body_class = doc.xpath("string(//body/@class)")
    match = re.search(r"\bpostid-(\d{1,12})\b", body_class)
    return int(match[1]) if match else None


def _feed_links(doc: Any, ctx: _Ctx) -> tuple[tuple[str, ...], str | None]:
    feeds: list[str] = []
    comment_feed = None
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = canonical_url(link.get("href") or "", ctx.base)
        if "alternate" not in rel or kind not in FEED_TYPES or not href:
            continue
        if not _same_site(href, ctx.page) or href in feeds:
            continue
        feeds.append(href)
        title = (link.get("title") or "").lower()
        path = urlsplit(href).path
        if comment_feed is None and (
            "comment" in title or "kommentar" in title or "commentaire" in title
            or "/comments/" in path
        ):  # fmt: skip
            comment_feed = href
    return tuple(feeds[:10]), comment_feed


def _post_links(doc: Any, ctx: _Ctx) -> tuple[str, ...]:
    """Links to posts on a home page: entry titles, bookmarks, `u-url` of h-entries."""
    links: list[str] = []
    for href in doc.xpath(
        "//a[@rel='bookmark']/@href|//*[contains(@class,'entry-title')]//a/@href"
        "|//*[contains(@class,'post-title')]//a/@href"
        "|//*[contains(concat(' ',normalize-space(@class),' '),' h-entry ')]"
        "//a[contains(concat(' ',normalize-space(@class),' '),' u-url ')]/@href"
    ):
        url = canonical_url(str(href), ctx.base)
        if url and _same_site(url, ctx.page):
            url = _without_fragment(url)
            if url not in links and url != ctx.page and not _is_root(url):
                links.append(url)
        if len(links) >= MAX_LINKS:
            break
    return tuple(links)


# --- accounts ------------------------------------------------------------------------------


def _account(
    ctx: _Ctx,
    name: str | None,
    url: str | None = None,
    avatar: str | None = None,
    uid: str | None = None,
) -> Account:
    """A commenter's account on this blog. Placeholder names and a URL that is the blog's
    own root (some themes link every commenter to it) identify nobody."""
    name = clean_name(_SAYS.sub("", (name or "")[: MAX_NAME * 8]))
    link = canonical_url(url, ctx.base) if url else None
    own_root = link is not None and _is_root(link) and _same_site(link, ctx.page)
    if link and (own_root or link.startswith(ctx.post + "#")):
        link = None
    account = make_account(ctx.site, name, url=link, avatar=avatar, platform="blog")
    if account is None:
        return Account(site=ctx.site, name="", platform="blog")
    if uid and (ident := uid_identifier(uid, ctx.site)):
        account = Account(
            site=account.site,
            name=account.name,
            identifiers=(*account.identifiers, ident),
            profile_url=account.profile_url,
            platform=account.platform,
        )
    return account


def _avatar(elements: Iterable[Any]) -> str | None:
    """The first Gravatar-style image URL among these elements' images (lazy-loading
    attributes and `<noscript>` copies included)."""
    for el in elements:
        if el.tag != "img":
            continue
        for attr in (
            "src",
            "data-src",
            "data-lazy-src",
            "srcset",
            "data-srcset",
            "data-lazy-srcset",
        ):
            value = (el.get(attr) or "").strip().split(" ")[0]
            if value.startswith("//"):
                value = "https:" + value
            if value and avatar_identifier(value):
                return value
            if value and "gravatar.com/avatar/" in value:
                return value  # the empty e-mail's hash: no identifier, but the same answer
    return None


# --- comments from markup ------------------------------------------------------------------


def _markup_comments(doc: Any, ctx: _Ctx) -> list[Item]:
    containers = _containers(doc)
    if not containers:
        return []
    owner: dict[Any, str] = {el: key for key, el in containers}  # element -> comment key
    ordered = sorted(containers, key=lambda kv: _position(kv[1]))
    urls: dict[str, str] = {}
    items: list[Item] = []
    depth_stack: dict[int, str] = {}
    for key, el in ordered:
        own = list(_own(el, owner))
        url = _comment_url(el, key, own, ctx)
        urls[key] = url
        parent = _parent_key(el, own, owner, ctx)
        parent_url = urls.get(parent) if parent else None
        depth = _DEPTH.search(el.get("class") or "")
        if depth:
            level = int(depth[1])
            depth_stack[level] = url
            if parent_url is None and level > 1:
                parent_url = depth_stack.get(level - 1)
        item = _comment_item(el, own, url, parent_url or ctx.post, ctx)
        if item is not None:
            items.append(item)
        if len(items) >= MAX_COMMENTS:
            break
    return items


def _position(el: Any) -> int:
    line = el.sourceline or 0
    return line


def _containers(doc: Any) -> list[tuple[str, Any]]:
    """(comment key, element) of every comment on the page, pingbacks left out."""
    found: dict[str, Any] = {}

    def add(key: str, el: Any) -> None:
        for ancestor in list(el.iterancestors())[:3]:
            if _classes(ancestor) & {"pingback", "trackback"}:
                return
        previous = found.get(key)
        # The outermost element of a comment is its container (li#comment-N around
        # article#div-comment-N, li#li-comment-N around article#comment-N).
        if previous is None or el in previous.iterancestors():
            found[key] = el

    for el in doc.xpath("//*[@id]"):
        ident = el.get("id") or ""
        tag = el.tag
        cls = _classes(el)
        if cls & {"pingback", "trackback"}:
            continue
        match = _COMMENT_ID.fullmatch(ident)
        if match and tag != "a":
            if "comment-anchor" in cls or not _text(el, 200).strip():
                parent = el.getparent()  # Substack: an empty anchor inside div.comment
                if parent is not None and "comment" in _classes(parent):
                    add(match[1], parent)
                continue
            if tag in ("li", "article", "div", "section") and (
                tag != "div" or cls & {"comment", "comment-body", "commentbody"} or
                any("comment" in c for c in cls)
            ):  # fmt: skip
                add(match[1], el)
            continue
        match = _BLOGGER_ID.fullmatch(ident)
        if match and tag == "li" and "comment" in cls:
            add(match[1], el)
            continue
        match = _ANCHOR_ID.fullmatch(ident)
        if (match and tag == "a" and not _text(el, 50).strip()) or (
            match and tag == "a" and el.find(".//img") is not None
        ):
            target = _anchor_target(el)
            if (
                target is not None
                and not (_classes(target) & {"pingback", "trackback"})
                and not any(target is v for v in found.values())
            ):
                add(match[1], target)
    result = [(k, v) for k, v in found.items() if _text(v, 50).strip()]
    return result or list(_generic_containers(doc).items())


def _anchor_target(anchor: Any) -> Any | None:
    """The comment an empty `<a id=…>` anchor marks: the next sibling when it is a comment
    (Drupal), else the enclosing list item (SPIP)."""
    sibling = anchor.getnext()
    if sibling is not None and _classes(sibling) & {"comment"}:
        return sibling
    for ancestor in anchor.iterancestors():
        if ancestor.tag == "li":
            return ancestor
        if ancestor.tag in ("body", "ul", "ol"):
            break
    return None


def _generic_containers(doc: Any) -> dict[str, Any]:
    """Comment cards without ids (MesOpinions): numbered by an id found inside, else order."""
    found: dict[str, Any] = {}
    for n, el in enumerate(
        doc.xpath("//*[contains(concat(' ',normalize-space(@class),' '),' mo-comment-card ')]")
    ):
        key = f"x{n}"
        for ident in el.xpath(".//*[@id]/@id")[:5]:
            match = _LIKE_ID.search(str(ident))
            if match:
                key = match[1]
                break
        found[key] = el
    return found


def _own(container: Any, owner: dict[Any, str]) -> Iterator[Any]:
    """The container's elements, without those of the comments nested in it."""
    stack = list(reversed(container))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el in owner:
            continue
        if _classes(el) & {"children", "comment-replies", "comments-ul"}:
            continue
        yield el
        stack.extend(reversed(el))


def _comment_url(el: Any, key: str, own: list[Any], ctx: _Ctx) -> str:
    for a in own:
        if a.tag != "a":
            continue
        href = a.get("href") or ""
        ms = _SHOW_COMMENT.search(href)
        if ms and key.isdigit() and href.endswith(f"#c{key}"):  # Blogger
            return canonical_url(f"?showComment={ms[1]}#c{key}", ctx.post) or ctx.post
        if "comment-timestamp" in _classes(a) and re.search(r"/comment/\d+$", href):
            url = canonical_url(href, ctx.base)  # Substack's own comment page
            if url and _same_site(url, ctx.page):
                return url
    if key.isdigit():
        return f"{ctx.post}#comment-{key}"
    return f"{ctx.post}#comment-0{key[1:]}"


def _parent_key(el: Any, own: list[Any], owner: dict[Any, str], ctx: _Ctx) -> str | None:
    for a in own:  # SPIP: rel=in-reply-to names the parent message
        if a.tag == "a" and "in-reply-to" in (a.get("rel") or "").split():
            match = re.search(r"#(?:forum|comment-?)(\d+)$", a.get("href") or "")
            if match:
                return match[1]
    for ancestor in el.iterancestors():
        if ancestor in owner:
            return owner[ancestor]
    # A `children` list closed after its parent's </li> (wordpress.com): the list follows it.
    for ancestor in el.iterancestors():
        if _classes(ancestor) & {"children"}:
            previous = ancestor.getprevious()
            if previous is not None and previous in owner:
                return owner[previous]
            break
    return None


def _first(own: list[Any], *classes: str, tags: tuple[str, ...] = ()) -> Any | None:
    """The first element with the first of `classes` that any element has, else of `tags`."""
    for name in classes:
        for el in own:
            if name in _classes(el):
                return el
    for el in own:
        if el.tag in tags:
            return el
    return None


def _comment_author(el: Any, own: list[Any]) -> tuple[str, str | None]:
    """(display name, author link) as the comment shows them."""
    node = None
    for candidate in own:  # SPIP: b.forum-qui-N
        if any(c.startswith("forum-qui") for c in _classes(candidate)):
            node = candidate
            break
    reviewer = _first(own, "reviewer")  # SPIP hReview: ", par NAME"
    if node is None and reviewer is not None:
        text = _text(reviewer, 400)
        return re.sub(r"^[,\s]*(?:par|by|von)\s+", "", text, flags=re.I), None
    if node is None:
        node = _first(
            own, "fn", "commenter-name", "username", "p-author", "comment-author-name",
            "wp-block-comment-author-name",
        )  # fmt: skip
    if node is None:
        node = _first(own, "user", tags=("cite",))  # Blogger cite.user, smittenkitchen
        if node is not None and node.tag != "cite" and "user" not in _classes(node):
            node = None
    if node is None:
        box = _first(own, "comment-author", "comment-author-link")
        if box is not None:
            strong = box.find(".//strong")
            node = strong if strong is not None else box.find(".//b")
            if node is None:
                node = box
    if node is None:
        info = _first(own, "mo-comment-infos")
        if info is not None:
            match = _AUTHOR_DATE.match(_text(info, 400))
            return (match[1] if match else _text(info, 400)), None
    if node is None:
        node = _first(own, tags=("h3", "h4", "h5"))
    if node is None:
        return "", None
    link = None
    for a in [node, *node.iter("a")]:
        if a.tag == "a" and a.get("href"):
            link = a.get("href")
            break
    if link is None:
        parent = node.getparent()
        if parent is not None and parent.tag == "a" and parent.get("href"):
            link = parent.get("href")
    return _text(node, MAX_NAME * 2), link


def _comment_date(el: Any, own: list[Any], ctx: _Ctx) -> datetime | None:
    for a in own:
        if a.tag == "a":
            ms = _SHOW_COMMENT.search(a.get("href") or "")
            if ms:  # Blogger prints HH:MM only; the permalink carries epoch milliseconds
                return read_date(datetime.fromtimestamp(int(ms[1]) / 1000, UTC), ctx.now)
    for t in own:
        if t.tag == "time" and t.get("datetime"):
            found = read_date(t.get("datetime"), ctx.now)
            if found is not None:
                return found
    meta = _first(own, *_META_CLASSES)
    texts = []
    if meta is not None:
        texts.append(_text(meta, 300))
    info = _first(own, "mo-comment-infos")
    if info is not None:
        match = _AUTHOR_DATE.match(_text(info, 400))
        if match:
            texts.append(match[2])
    box = _first(own, "comment-author")
    if box is not None:  # a theme printing the date beside the name (moritz-meyer)
        strong = box.find(".//strong")
        if strong is not None and strong.tail:
            texts.append(strong.tail)
    for text in texts:
        text = re.sub(r"^.*?\b(?:par|by)\s+\S+(?:\s\S+)?\s+le\s+", "", text, flags=re.I)
        found = parse_date_text(
            text[:MAX_DATE_TEXT], languages=ctx.languages, tz=ctx.tz, now=ctx.now
        )
        if found is not None:
            return found
    return None


def _comment_text(el: Any, own: list[Any]) -> str:
    for name in _TEXT_CLASSES:
        node = _first(own, name)
        if node is not None:
            return _own_text(node, el)
    node = _first(own, "comment-body", "content", "commentbody")
    if node is not None and node is not el:
        return _own_text(node, el)
    paragraphs = [p for p in own if p.tag == "p"]
    if paragraphs:
        return " ".join(_text(p) for p in paragraphs)[:MAX_TEXT]
    return ""


def _own_text(node: Any, container: Any) -> str:
    """The comment's words: no like buttons, reply links or nested comments."""
    skip = {"comment-likes", "reply", "comment-reply", "comment-actions", "sharedaddy", "says"}
    parts = []
    stack = [node]
    size = 0
    while stack and size < MAX_TEXT * 2:
        el = stack.pop()
        if el is not node and (_classes(el) & skip or _classes(el) & {"children"}):
            continue
        if el is not node and _COMMENT_ID.fullmatch(el.get("id") or ""):
            continue
        piece = _text_shallow(el)
        parts.append(piece)
        size += len(piece)
    del container
    return " ".join(" ".join(parts).split())[:MAX_TEXT]


def _text_shallow(el: Any) -> str:
    return _text(el)


def _comment_item(el: Any, own: list[Any], url: str, parent_url: str, ctx: _Ctx) -> Item | None:
    name, link = _comment_author(el, own)
    uid = None
    match = re.search(r"\bcomment-author-([\w-]{1,100})\b", el.get("class") or "")
    if match and "byuser" in _classes(el):
        uid = None  # a WordPress user's slug: kept as an id only with the REST API's number
    avatar = _avatar(own)
    title = ""
    title_node = _first(own, "forum-titre")  # SPIP messages carry their own subject
    if title_node is not None:
        title = _text(title_node, MAX_TITLE)
    return Item(
        url=url,
        title=title,
        text=_comment_text(el, own),
        published=_comment_date(el, own, ctx),
        author=_account(ctx, name, link, avatar, uid),
        thread_url=ctx.post,
        parent_url=parent_url,
        language=ctx.language,
    )


# --- microformats --------------------------------------------------------------------------


def _mf2_comments(doc: Any, ctx: _Ctx, body: bytes) -> list[Item]:
    """Comments of a microformats2 page: `comment` properties of the h-entry (h-cite or
    h-entry), nested replies under their parent, `in-reply-to` when given."""
    if not doc.xpath("//*[contains(concat(' ',normalize-space(@class),' '),' h-entry ')]"):
        return []
    import mf2py  # only for pages that use microformats

    html = lxml.html.tostring(doc, encoding="unicode")
    parsed = mf2py.parse(doc=html, url=ctx.base, html_parser="lxml")
    entries = [i for i in parsed.get("items", []) if "h-entry" in i.get("type", [])]
    if not entries:
        for item in parsed.get("items", []):  # an h-feed or h-card holding the entry
            entries += [c for c in item.get("children", []) if "h-entry" in c.get("type", [])]
    if len(entries) != 1:
        return []
    entry = entries[0]
    own_url = _mf_url(entry, ctx)
    if own_url:
        ctx.post = _without_fragment(own_url)
    items: list[Item] = []

    def walk(node: dict[str, Any], parent: str) -> None:
        for comment in node.get("properties", {}).get("comment", [])[:MAX_COMMENTS]:
            if not isinstance(comment, dict) or len(items) >= MAX_COMMENTS:
                continue
            item = _mf_comment(comment, parent, ctx, len(items))
            items.append(item)
            walk(comment, item.url)
        for child in node.get("children", [])[:MAX_COMMENTS]:  # replies as nested children
            if isinstance(child, dict) and {"h-cite", "h-entry"} & set(child.get("type", [])):
                item = _mf_comment(child, parent, ctx, len(items))
                items.append(item)
                walk(child, item.url)

    walk(entry, ctx.post)
    return items


def _mf_first(node: dict[str, Any], name: str) -> Any:
    values = node.get("properties", {}).get(name) or []
    return values[0] if values else None


def _mf_url(node: dict[str, Any], ctx: _Ctx) -> str | None:
    value = _mf_first(node, "url")
    return canonical_url(value, ctx.base) if isinstance(value, str) else None


def _mf_comment(node: dict[str, Any], parent: str, ctx: _Ctx, index: int) -> Item:
    url = _mf_url(node, ctx)
    if not url or not url.startswith(ctx.post) or url == ctx.post:
        url = f"{ctx.post}#comment-{index + 1}"
    reply_to = _mf_first(node, "in-reply-to")
    if isinstance(reply_to, dict):
        reply_to = _mf_first(reply_to, "url") or reply_to.get("value")
    if isinstance(reply_to, str):
        target = canonical_url(reply_to, ctx.base)
        if target and target.startswith(ctx.post):
            parent = target
    author = _mf_first(node, "author")
    name, link, photo = "", None, None
    if isinstance(author, dict):
        name = str(_mf_first(author, "name") or author.get("value") or "")
        link = _mf_first(author, "url")
        photo = _mf_first(author, "photo")
        if isinstance(photo, dict):
            photo = photo.get("value")
    elif isinstance(author, str):
        name = author
    content = _mf_first(node, "content")
    if isinstance(content, dict):
        text = html_to_text(str(content.get("html") or content.get("value") or ""))
    else:
        text = " ".join(str(content or _mf_first(node, "summary") or "").split())
    published = _mf_first(node, "published")
    date = None
    if isinstance(published, str):
        date = read_date(published.replace(" ", "T", 1), ctx.now) or parse_date_text(
            published, languages=ctx.languages, tz=ctx.tz, now=ctx.now
        )
    return Item(
        url=url,
        title="",
        text=text[:MAX_TEXT],
        published=date,
        author=_account(ctx, name, link if isinstance(link, str) else None,
                        photo if isinstance(photo, str) else None),
        thread_url=ctx.post,
        parent_url=parent,
        language=ctx.language,
    )  # fmt: skip


# --- the post ------------------------------------------------------------------------------


def _jsonld_nodes(doc: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in doc.xpath("//script[@type='application/ld+json']")[:20]:
        raw = (script.text or "")[:1_000_000]
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack and len(nodes) < 500:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(reversed(value[:200]))
            elif isinstance(value, dict):
                nodes.append(value)
                graph = value.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph[:200]))
    return nodes


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type")
    return [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]


def _jsonld_author(doc: Any) -> tuple[str, str | None] | None:
    nodes = _jsonld_nodes(doc)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        if not set(_types(node)) & {"Article", "BlogPosting", "NewsArticle", "Report", "WebPage"}:
            continue
        author = node.get("author")
        if isinstance(author, list):
            author = author[0] if author else None
        if isinstance(author, dict) and set(author) <= {"@id"} and author.get("@id") in by_id:
            author = by_id[author["@id"]]  # Yoast: a reference into the @graph
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            if "Organization" in _types(author):
                continue
            url = author.get("url") if isinstance(author.get("url"), str) else None
            return author["name"], url
        if isinstance(author, str) and author.strip():
            return author, None
    return None


def _byline_author(doc: Any) -> tuple[str, str | None] | None:
    """The visible byline of the post."""
    for path in (
        "//*[contains(concat(' ',normalize-space(@class),' '),' h-entry ')]"
        "//*[contains(concat(' ',normalize-space(@class),' '),' p-author ')]",
        "//*[contains(@class,'entry-meta') or contains(@class,'post-meta') or "
        "contains(@class,'byline') or contains(@class,'entry-author') or "
        "contains(@class,'post-author')]//*[contains(concat(' ',normalize-space(@class),' '),"
        "' fn ') or contains(concat(' ',normalize-space(@class),' '),' author-name ') or "
        "contains(concat(' ',normalize-space(@class),' '),' post-author-name ')]",
        "//span[contains(concat(' ',normalize-space(@class),' '),' fn ')][@itemprop='author']",
        "//*[@itemprop='author']//*[@itemprop='name']",
        # schema.org microdata without a nested name: the first link inside, else the text
        "//*[@itemprop='author'][not(.//*[@itemprop='name'])]",
        "//*[contains(concat(' ',normalize-space(@class),' '),' byline ')]//a[@rel='author']",
        "//*[contains(@class,'entry-meta') or contains(@class,'post-meta') or "
        "contains(@class,'byline')]//a[@rel='author']",
        "//*[contains(@class,'author vcard')]//a",
        "//*[contains(concat(' ',normalize-space(@class),' '),' post-author ')]"
        "//*[contains(concat(' ',normalize-space(@class),' '),' fn ')]",
    ):
        for node in doc.xpath(path)[:3]:
            if _inside_comment(node):
                continue
            if node.get("itemprop") == "author" and node.tag != "a":
                inner = [a for a in node.iter("a") if a.get("href") and _text(a, 400)]
                if inner:
                    node = inner[0]
                elif node.tag == "meta":
                    if content := (node.get("content") or "").strip():
                        return content, None
                    continue
            name = _text(node, 400)
            if name:
                return name, _node_link(node)
    return None


def _node_link(node: Any) -> str | None:
    """The author link of a byline node: its own href, else a rel=author link inside."""
    if node.tag == "a":
        return node.get("href")
    for href in node.xpath(
        ".//a[contains(concat(' ',normalize-space(@rel),' '),' author ')]/@href"
    )[:1]:
        return str(href)
    return None


def _site_names(doc: Any) -> set[str]:
    """The names the site goes by (og:site_name, its host): a byline naming the site itself
    (an embed's "par <site>", a `<meta name=author>` set to the brand) is no author."""
    names: set[str] = set()
    for value in doc.xpath(
        "//meta[@property='og:site_name']/@content|//meta[@property='og:url']/@content|"
        "//link[@rel='canonical']/@href|//meta[@name='application-name']/@content"
    )[:6]:
        value = str(value).strip()
        if "://" in value:
            value = host_of(value) or ""
            value = value.removeprefix("www.")
        if value:
            names.add(value.casefold())
    return names


def _is_site(name: str, sites: set[str]) -> bool:
    folded = " ".join(name.split()).casefold()
    return folded in sites or folded.removeprefix("www.") in sites


def _loose_byline(doc: Any) -> tuple[str, str | None] | None:
    """Weaker signals, after JSON-LD and `<meta name=author>`: rel=author, any `fn`, and
    "Par X" / "By X" texts."""
    for path in (
        "//a[@rel='author']",
        "//*[contains(concat(' ',normalize-space(@class),' '),' fn ')]",
    ):
        for node in doc.xpath(path)[:5]:
            if not _inside_comment(node) and (name := _text(node, 400)):
                return name, node.get("href") if node.tag == "a" else None
    for node in doc.xpath(
        "//*[contains(concat(' ',normalize-space(@class),' '),' auteurs ') or "
        "contains(concat(' ',normalize-space(@class),' '),' auteur ')]"
    )[:5]:
        if _inside_comment(node):
            continue
        name = _text(node, 300)
        if match := _BYLINE.match(name):
            name = match[1]
        if name and len(name.split()) <= 6:
            return name, _node_link(node)
    for node in doc.xpath("//*[contains(@class,'-author')]")[:40]:
        labels = [c for c in _classes(node) if c.endswith("-author") and "comment" not in c]
        if not labels or _inside_comment(node):
            continue
        name = _text(node, 300)
        if name and len(name.split()) <= 8 and not _BYLINE.match(name):
            return name, _node_link(node)
    for node in doc.xpath(
        "//*[contains(@class,'byline') or contains(@class,'author') or contains(@class,'signature')"
        " or contains(@class,'submitted')]"
    )[:40]:
        if _inside_comment(node):
            continue
        match = _BYLINE.match(_text(node, 300))
        if match and len(match[1].split()) <= 5:
            return match[1], None
    return None


def _inside_comment(node: Any) -> bool:
    # schema.org microdata naming the author: Blogger's main column is a `div.widget.Blog`
    microdata = bool(node.xpath("ancestor-or-self::*[@itemprop='author']"))
    for ancestor in node.iterancestors():
        cls = _classes(ancestor)
        if microdata and "Blog" in cls:
            cls.discard("widget")
        ident = ancestor.get("id") or ""
        if cls & {"comment", "comments", "comment-list", "commentlist", "sidebar", "widget"} or (
            ident in ("comments", "sidebar", "secondary")
        ):
            return True
    return False


def _post_item(doc: Any, ctx: _Ctx) -> Item:
    og = {
        key: doc.xpath(f"string(//meta[@property='og:{key}']/@content)")
        for key in ("url", "title", "description")
    }
    status = twitter.status_item(ctx.post, og["url"], og["title"], og["description"])
    if status is not None:  # an X/Twitter status page: nothing but Open Graph tags
        return status  # (its `lang` is the reader's interface, not the status's language)
    author: tuple[str, str | None] | None = _byline_author(doc) or _jsonld_author(doc)
    sites = _site_names(doc)
    if author is None:
        meta = doc.xpath("string(//meta[@name='author']/@content)").strip()
        if meta and not _is_site(meta, sites):
            author = (meta, None)
    if author is None:
        loose = _loose_byline(doc)
        if loose and not _is_site(loose[0], sites):
            author = loose
    title = ""
    for path in (
        "//meta[@property='og:title']/@content",
        "//*[contains(@class,'entry-title') or contains(@class,'post-title')]",
        "//h1",
        "//title",
    ):
        nodes = doc.xpath(path)[:1]
        if nodes:
            node = nodes[0]
            title = (str(node) if isinstance(node, str) else _text(node, MAX_TITLE)).strip()
            if title:
                break
    published = None
    for path in (
        "//meta[@property='article:published_time']/@content",
        "//*[contains(concat(' ',normalize-space(@class),' '),' dt-published ')]/@datetime",
        "//time[contains(@class,'published') or contains(@class,'entry-date')]/@datetime",
        "//meta[@itemprop='datePublished']/@content",
    ):
        for value in doc.xpath(path)[:1]:
            published = read_date(str(value), ctx.now)
        if published:
            break
    if published is None:
        for node in _jsonld_nodes(doc):
            if isinstance(node.get("datePublished"), str):
                published = read_date(node["datePublished"], ctx.now)
                if published:
                    break
    body = None
    for path in (
        "//*[contains(concat(' ',normalize-space(@class),' '),' e-content ')]",
        "//*[contains(@class,'entry-content') or contains(@class,'post-body') "
        "or contains(@class,'post-content') or contains(@class,'article-content')]",
        "//article",
    ):
        nodes = doc.xpath(path)[:1]
        if nodes:
            body = nodes[0]
            break
    text = _text(body) if body is not None else ""
    account = None
    if author is not None and author[0].strip().casefold() in _PLACEHOLDER_NAMES:
        author = None  # Blogger shows a profile without a display name as "Unknown"
    if author is not None:
        name, link = author
        account = _account(ctx, name, link)
        if not account.name and not account.identifiers:
            account = None
    return Item(
        url=ctx.post,
        title=" ".join(title.split())[:MAX_TITLE],
        text=text,
        published=published,
        author=account,
        language=ctx.language,
    )


# --- the WordPress REST API ----------------------------------------------------------------


def _json(body: bytes) -> Any:
    if len(body) > MAX_JSON:
        raise ParseError(f"REST answer over {MAX_JSON} bytes")
    try:
        return json.loads(
            decode_html(body, "charset=utf-8") if body[:3] == b"\xef\xbb\xbf" else body
        )
    except (ValueError, RecursionError) as exc:
        raise ParseError("the REST API answered something that is not JSON") from exc


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("rendered")
    return clean(value) if isinstance(value, str) else ""


def parse_wp_posts(body: bytes, api_root: str, *, now: datetime | None = None) -> list[Item]:
    """Posts of a `/wp-json/wp/v2/posts` page (authors as `_embed`ded users when given)."""
    now = now or datetime.now(UTC)
    data = _json(body)
    site = host_of(api_root)
    items = []
    for post in data if isinstance(data, list) else ():
        if not isinstance(post, dict):
            continue
        url = canonical_url(clean(post.get("link")), api_root)
        if not url or not _same_site(url, api_root):
            continue
        author = None
        embedded = post.get("_embedded")
        users = embedded.get("author") if isinstance(embedded, dict) else None
        user = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else {}
        uid = post.get("author")
        if user or uid:
            ctx = _Ctx(api_root, api_root, site, (), None, now, None, url)
            author = _account(
                ctx,
                clean(user.get("name"), MAX_NAME * 2),
                clean(user.get("link")) or None,
                _avatar_of(user),
                str(uid) if isinstance(uid, int) else None,
            )
        items.append(
            Item(
                url=url,
                title=html_to_text(_rendered(post.get("title")))[:MAX_TITLE],
                text=html_to_text(_rendered(post.get("content")) or _rendered(post.get("excerpt"))),
                published=_gmt(post.get("date_gmt"), now),
                author=author,
                entry_id=f"wp-post-{post['id']}" if isinstance(post.get("id"), int) else None,
            )
        )
    return items


def _gmt(value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str):
        return None
    return read_date(value[:40] + ("" if value.endswith("Z") or "+" in value else "+00:00"), now)


def _avatar_of(node: dict[str, Any]) -> str | None:
    urls = node.get("avatar_urls")
    if isinstance(urls, dict):
        for value in urls.values():
            if isinstance(value, str):
                return value
    return None


def parse_wp_comments(body: bytes, api_root: str, *, now: datetime | None = None) -> list[Item]:
    """Comments of a `/wp-json/wp/v2/comments` page: permalink from `link`, the thread is
    that link's post, the parent the comment named by `parent` (`post#comment-N`)."""
    now = now or datetime.now(UTC)
    data = _json(body)
    site = host_of(api_root)
    items = []
    for comment in data if isinstance(data, list) else ():
        if not isinstance(comment, dict) or comment.get("type") not in (None, "comment", ""):
            continue
        url = canonical_url(clean(comment.get("link")), api_root)
        if not url or not _same_site(url, api_root) or "#" not in url:
            continue
        post = _without_fragment(url)
        parent = comment.get("parent")
        parent_url = f"{post}#comment-{parent}" if isinstance(parent, int) and parent else post
        uid = comment.get("author")
        ctx = _Ctx(api_root, api_root, site, (), None, now, None, post)
        author = _account(
            ctx,
            clean(comment.get("author_name"), MAX_NAME * 2),
            clean(comment.get("author_url")) or None,
            _avatar_of(comment),
            str(uid) if isinstance(uid, int) and uid else None,
        )
        items.append(
            Item(
                url=url,
                text=html_to_text(_rendered(comment.get("content"))),
                published=_gmt(comment.get("date_gmt"), now),
                author=author,
                entry_id=f"wp-comment-{comment['id']}"
                if isinstance(comment.get("id"), int)
                else None,
                thread_url=post,
                parent_url=parent_url,
            )
        )
    return items


# --- comment feeds -------------------------------------------------------------------------


_ATOM = "{http://www.w3.org/2005/Atom}"
_THR = "{http://purl.org/syndication/thread/1.0}"


def parse_comment_feed(
    body: bytes, url: str, content_type: str | None = None, *, now: datetime | None = None
) -> list[Item]:
    """Comments of a comment feed (WordPress RSS, Blogger Atom): no "Comment on …" title,
    the thread from `thr:in-reply-to` or the permalink's page, Blogger's parent comment from
    its `related` link. Entries that are posts (no fragment, no in-reply-to) stay posts."""
    now = now or datetime.now(UTC)
    parsed = parse_feed(body, url, content_type, now=now)
    relations = _atom_relations(body) if b"in-reply-to" in body[:MAX_PAGE] else {}
    items = []
    for item in parsed.items:
        thread, parent = relations.get(item.entry_id or "", (None, None))
        if thread is None and "#" in item.url:
            thread = _without_fragment(item.url)
        if thread is None or thread == item.url:
            items.append(item)  # a post
            continue
        thread = canonical_url(thread, url) or thread
        parent_url = canonical_url(parent, url) if parent else None
        # A comment feed's "Comment on …" title is not the commenter's words (SPEC §7).
        items.append(
            dataclasses.replace(item, title="", thread_url=thread, parent_url=parent_url or thread)
        )
    return items


def _atom_relations(body: bytes) -> dict[str, tuple[str | None, str | None]]:
    """Atom entry id -> (thread URL, parent comment URL) from thr:in-reply-to and Blogger's
    `related` link (…/comments/default/ID -> the parent's permalink in this feed)."""
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True
    )
    try:
        root = lxml.etree.fromstring(body[:MAX_PAGE], parser=parser)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return {}
    if root is None:
        return {}
    by_comment_id: dict[str, str] = {}
    raw: dict[str, tuple[str | None, str | None]] = {}
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        reply = entry.find(f"{_THR}in-reply-to")
        thread = reply.get("href") if reply is not None else None
        related = None
        permalink = None
        for link in entry.iter(f"{_ATOM}link"):
            rel = link.get("rel")
            if rel == "related":
                related = link.get("href")
            elif rel == "alternate":
                permalink = link.get("href")
        match = re.search(r"post-(\d+)$", entry_id)
        if match and permalink:
            by_comment_id[match[1]] = permalink
        raw[entry_id] = (thread, related)
    result = {}
    for entry_id, (thread, related) in raw.items():
        parent = None
        if related:
            match = re.search(r"/comments/default/(\d+)", related)
            parent = by_comment_id.get(match[1]) if match else None
        result[entry_id] = (thread, parent)
    return result
