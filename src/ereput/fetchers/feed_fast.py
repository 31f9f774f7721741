"""A fast reader of RSS 0.9x/1.0/2.0 and Atom 1.0 giving what feedparser gives.

feedparser spends most of its time in Python SAX callbacks. This module builds the tree with
lxml (no DTD, no entity expansion, no network) and replays feedparser's own element handlers
over it: the same element stack, the same depth rules for titles and properties, the same
author/e-mail splitting, the same content/summary choice, feedparser's own date parser, URL
join and HTML sniffing. The result is the `{"version", "feed", "entries"}` of
`feedparser.parse` restricted to what `feed_parse` reads, so both paths share one conversion
into items. Items and entries of the common simple shape skip the element-by-element replay:
`_direct_entry` applies the same handler steps to their children in one pass (the tests
compare both on every corpus feed), and anything else in an item is replayed.

What it cannot replay with certainty raises `Unsupported`, and the caller uses feedparser:
XML that is not well-formed (feedparser's loose parser), a DOCTYPE with an internal subset
or an entity reference, xml:base, markup inside a text construct (Atom type="xhtml", raw
XHTML in an RSS description), base64 content, an unknown root, remapped namespace prefixes,
and the rare elements whose feedparser handlers are not replayed here (`_UNSUPPORTED`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import lxml.etree
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from feedparser.util import FeedParserDict

from ereput.errors import ParseError


class Unsupported(ParseError):
    """The fast path cannot read this feed exactly as feedparser would."""


# Namespace URI (lower-case) -> feedparser's standard prefix ("" for the feed formats).
_NAMESPACES = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_STANDARD_PREFIXES = frozenset(_NAMESPACES.values()) - {""}
# Standard prefixes that name feedparser handlers (`_start_dc_creator`…): an unknown namespace
# under one of them would reach those handlers.
_HANDLER_PREFIXES = _STANDARD_PREFIXES & {
    name.split("_")[2].lower()
    for name in dir(_FeedParserMixin)
    if name.startswith(("_start_", "_end_")) and name.count("_") >= 3
}
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_ATOM10 = "http://www.w3.org/2005/atom"
_RSS10 = "http://purl.org/rss/1.0/"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_DECLARATION = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FIRST_ELEMENT = re.compile(rb"<\w")
_C1 = re.compile("[\x80-\x9f]")
_LINK_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")
# feedparser's `_sync_author_detail` e-mail pattern, verbatim.
_AUTHOR_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
# FeedParserDict's aliases on assignment ("date" is stored as "updated"): contexts here are
# plain dicts, and every store of an element-derived key goes through `_key`.
_KEYMAP = {
    old: new[0] if isinstance(new, list) else new for old, new in FeedParserDict.keymap.items()
}
_CAN_BE_RELATIVE = frozenset(_FeedParserMixin.can_be_relative_uri)
_HTML_TYPES = frozenset(_FeedParserMixin.html_types)
_looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html
# feedparser handlers this replay does not implement: a feed using them goes to feedparser.
_UNSUPPORTED = frozenset(
    {
        "abstract", "body", "xhtml_body", "fullitem", "source", "cc_license",
        "creativecommons_license", "dcterms_valid", "geom", "georssgeom", "georss_box",
        "georss_line", "georss_point", "georss_polygon", "georss_where", "gml_exterior",
        "gml_linearring", "gml_linestring", "gml_point", "gml_polygon", "gml_pos",
        "gml_poslist", "where", "psc_chapter", "psc_chapters", "tags", "itunes_keywords",
        "media_keywords", "newlocation",
    }
)  # fmt: skip
_Handler = Callable[["_Replay", dict[str, str]], None]
_EndHandler = Callable[["_Replay"], None]

_LOCAL = threading.local()  # lxml parsers are not shared between threads


def parse(data: bytes) -> dict[str, Any]:
    """`{"version", "feed", "entries"}` as `feedparser.parse` gives them for these UTF-8 bytes
    (with `resolve_relative_uris=False`, `sanitize_html=False`, no base URI); raises
    Unsupported when that cannot be guaranteed."""
    head = data[: _first_element(data)]
    if b"<!ENTITY" in head or (b"<!DOCTYPE" in head and b"[" in head.partition(b"<!DOCTYPE")[2]):
        raise Unsupported("DOCTYPE with an internal subset")
    if b"/1999/xlink" in data:  # feedparser turns an xlink declaration into an attribute
        raise Unsupported("xlink namespace")
    _check_prefixes(data)
    try:
        root = lxml.etree.fromstring(data, _parser())
    except (lxml.etree.XMLSyntaxError, ValueError) as exc:
        raise Unsupported(f"not well-formed: {exc}") from exc
    replay = _Replay()
    replay.version = _root_version(root)
    try:
        replay.walk(root)
    except RecursionError as exc:
        raise Unsupported("nested too deeply") from exc
    version = ("rss091n" if b"netscape" in head.lower() else "") or replay.version
    if not version:
        raise Unsupported("no feed version")
    return {"version": version, "feed": replay.feeddata, "entries": replay.entries}


def _parser() -> lxml.etree.XMLParser:
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = lxml.etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            recover=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser


def _first_element(data: bytes) -> int:
    match = _FIRST_ELEMENT.search(data)
    return match.start() if match else len(data)


def _check_prefixes(data: bytes) -> None:
    """feedparser maps declared prefixes to its standard ones by name: a document that gives a
    standard prefix to another namespace, or a prefix to two namespaces, is left to it."""
    declared: dict[bytes | None, str] = {}
    for prefix, double, single in _DECLARATION.findall(data):
        uri = (double or single).decode("utf-8", "replace").lower()
        if "backend.userland.com/rss" in uri:
            uri = "http://backend.userland.com/rss"
        name = prefix or None
        if declared.setdefault(name, uri) != uri and (name or uri not in _NAMESPACES):
            raise Unsupported("a prefix bound to two namespaces")
        standard = _NAMESPACES.get(uri)
        given = prefix.decode("ascii", "replace").lower() if prefix else ""
        if standard is None:
            if given in _HANDLER_PREFIXES or (not given and uri):
                raise Unsupported(f"unknown namespace {uri} under a standard prefix")
        elif given and given != standard and given in _STANDARD_PREFIXES:
            raise Unsupported(f"prefix {given} for {uri}")


def _root_version(root: lxml.etree._Element) -> str:
    """feedparser's version after the root start tag: namespace declarations, then the root's
    own handler. Only RSS, RSS 1.0 RDF and Atom 1.0 roots are replayed."""
    qname = lxml.etree.QName(root)
    namespace = (qname.namespace or "").lower()
    local = qname.localname.lower()
    version = ""
    for prefix, uri in root.nsmap.items():  # declaration order
        lower = (uri or "").lower()
        if prefix is None and lower == _RSS090:
            version = version or "rss090"
        elif lower == _RSS10:
            version = version or "rss10"
        elif lower == _ATOM10:
            version = version or "atom10"
    if local == "rss" and _NAMESPACES.get(namespace) == "":
        if not version.startswith("rss"):
            attr = root.get("version", "")
            version = _RSS_VERSIONS.get(attr) or ("rss20" if attr.startswith("2.") else "rss")
        return version
    if local == "rdf" and namespace == "http://www.w3.org/1999/02/22-rdf-syntax-ns#":
        if version != "rss10":
            raise Unsupported(f"RDF root with version {version!r}")
        return version
    if local == "feed" and namespace == _ATOM10 and version == "atom10":
        return version
    raise Unsupported(f"root {root.tag}")


_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}


def _fixup(output: str) -> str:
    """pop()'s last steps for UTF-8 input: undo double-encoded UTF-8, map C1 to cp1252."""
    if output.isascii():  # both steps leave ASCII unchanged
        return output
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_cp1252) if _C1.search(output) else output


def _map_content_type(content_type: str) -> str:
    content_type = content_type.lower()
    if content_type in ("text", "plain"):
        return "text/plain"
    if content_type == "html":
        return "text/html"
    if content_type == "xhtml":
        return "application/xhtml+xml"
    return content_type


def _enforce_href(attrs: dict[str, str]) -> dict[str, str]:
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href
    return attrs


_RFC822 = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" (\d{4}) (\d\d):(\d\d):(\d\d) (?:([+-])(\d\d)(\d\d)|GMT)"
)
_W3DTF = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?(?:Z|([+-])(\d\d):(\d\d))"
)
_MONTHS = {
    m: n
    for n, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


class LazyDate:
    """`parse_date(value)`, computed when `feed_parse` reads it (`resolve`): a scan's
    prefilter skips most entries unread, and their dates were a fifth of this reader's
    time. Only `_direct_entry` leaves these; the replay stores parsed dates."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"LazyDate({self.value!r})"


def resolve(value: Any) -> Any:
    """A `*_parsed` entry value as feedparser would hold it."""
    return parse_date(value.value) if isinstance(value, LazyDate) else value


def parse_date(value: str | None) -> time.struct_time | None:
    """feedparser's `_parse_date`, computed directly for the two common shapes (RFC 822 with
    a day name and a numeric or GMT zone; W3C date-time with seconds), where its first
    matching handler (`_parse_date_w3dtf`, else `_parse_date_rfc822`) gives this result."""
    if value:
        match = _W3DTF.fullmatch(value)
        if match:
            year, month, day, hour, minute, second, sign, zh, zm = match.groups()
        else:
            match = _RFC822.fullmatch(value)
            if match:
                day, month, year, hour, minute, second, sign, zh, zm = match.groups()
                month = _MONTHS[month]
        if match:
            try:
                stamp = datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second)
                )
                if sign:
                    delta = timedelta(hours=int(zh), minutes=int(zm))
                    stamp = stamp - delta if sign == "+" else stamp + delta
                return stamp.utctimetuple()
            except (ValueError, OverflowError):
                pass
    result: time.struct_time | None = _parse_date(value)
    return result


class _Replay:
    """feedparser's `_FeedParserMixin` state and handlers, for the elements replayed here."""

    def __init__(self) -> None:
        self.version = ""
        self.feeddata: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.depth_maps: dict[int, dict[str, int]] = {}
        self.infeed = self.inentry = self.incontent = self.intextinput = self.inimage = 0
        self.inauthor = self.incontributor = self.inpublisher = 0
        self.contentparams: dict[str, Any] = {}
        self.summary_key: str | None = None
        self.stack: list[list[Any]] = []
        self.lang: str | None = None
        self.langstack: list[str | None] = []
        self.title_depth = -1
        self.depth = 0
        self.has_content = 0
        self.guidislink = 0
        self.tags: dict[tuple[Any, Any], tuple[str, str, str]] = {}

    # --- the walk: unknown_starttag / characters / unknown_endtag -----------------------

    def walk(self, element: lxml.etree._Element) -> None:
        tag = self.start(element)
        if element.text:
            self.data(element.text)
        for child in element:
            if not isinstance(child.tag, str):
                raise Unsupported("entity reference")
            if child.tag not in _ITEM_TAGS or not self.direct_item(child):
                self.walk(child)
            if child.tail:
                self.data(child.tail)
        self.end(tag)

    def direct_item(self, item: lxml.etree._Element) -> bool:
        """An item or entry of the common simple shape read in one pass over its children,
        with the entry and the state the replay would leave; False (nothing changed) when it
        has anything else, and the replay walks it."""
        if (
            len(item.attrib) > (item.get(_RDF_ABOUT) is not None)
            or self.inentry | self.incontent | self.inauthor | self.incontributor
            or self.inpublisher
        ):
            return False
        entry = _direct_entry(self, item)
        if entry is None:
            return False
        self.entries.append(entry)
        self.inentry = self.has_content = self.intextinput = self.inimage = 0
        self.guidislink = entry.pop(_GUIDISLINK_STATE)
        self.title_depth = self.depth + 2 if entry.get("title") else -1
        contents = entry.pop(_CONTENT_PUSHES)
        if contents:  # feedparser's _start_content pushes twice and pops once
            self.stack.append(["item", 0, []])
            self.stack.extend(["content", 1, []] for _ in range(contents))
        return True

    def start(self, element: lxml.etree._Element) -> str:
        self.depth += 1
        tag_key = (element.tag, element.prefix)
        known = self.tags.get(tag_key)
        if known is None:
            known = self.tags[tag_key] = _tag_name(element)
        tag, prefix, local = known
        attrs: dict[str, str] = {}
        qnames: dict[str, str] = {}
        for key, value in element.attrib.items():
            if key[0] == "{":  # (namespace, local) -> "std:local" or "local"; qname "local"
                uri, _, name = key[1:].partition("}")
                name = name.lower()
                std = _NAMESPACES.get(uri.lower(), "")
                attrs[f"{std}:{name}" if std else name] = value
                qnames[name] = value
            else:
                key = key.lower()
                attrs[key] = value
                qnames[key] = value
        if len(qnames) < len(element.attrib) or any(
            k in attrs and attrs[k] != v for k, v in qnames.items()
        ):
            raise Unsupported("attributes with the same local name")
        attrs.update(qnames)
        for key in ("rel", "type"):
            if key in attrs:
                attrs[key] = attrs[key].lower()
        if "xml:base" in attrs or "base" in attrs:
            raise Unsupported("xml:base")
        lang = attrs.get("xml:lang", attrs.get("lang"))
        if lang == "":
            lang = None
        elif lang is None:
            lang = self.lang
        if lang and tag in ("feed", "rss"):
            self.feeddata["language"] = lang.replace("_", "-")
        self.lang = lang
        self.langstack.append(lang)
        if self.incontent:
            raise Unsupported("markup inside a text construct")
        if not prefix:
            if local not in ("title", "link", "description", "name"):
                self.intextinput = 0
            if local not in ("title", "link", "description", "url", "href", "width", "height"):
                self.inimage = 0
        if tag in _UNSUPPORTED:
            raise Unsupported(f"element {tag}")
        handler = _STARTS.get(tag)
        if handler is not None:
            handler(self, attrs)
        elif not attrs:
            self.push(tag, 1)
        else:
            self.context()[_KEYMAP.get(tag, tag)] = attrs
        return tag

    def end(self, tag: str) -> None:
        handler = _ENDS.get(tag)
        if handler is not None:
            handler(self)
        else:
            self.pop(tag)
        if self.incontent:
            raise Unsupported("markup inside a text construct")
        if self.langstack:
            self.langstack.pop()
            if self.langstack:
                self.lang = self.langstack[-1]
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.stack:
            if self.contentparams.get("type") == "application/xhtml+xml":
                text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            self.stack[-1][2].append(text)

    # --- the element stack ----------------------------------------------------------------

    def push(self, element: str, expecting_text: int) -> None:
        self.stack.append([element, expecting_text, []])

    def pop(self, element: str, strip_whitespace: bool = True) -> str | None:
        if not self.stack or self.stack[-1][0] != element:
            return None
        element, expecting_text, pieces = self.stack.pop()
        if self.version == "atom10" and self.contentparams.get("type", "text") == (
            "application/xhtml+xml"
        ):
            pieces = _strip_div(pieces)
        output = "".join(pieces)
        if strip_whitespace:
            output = output.strip()
        if not expecting_text:
            return output
        if element in _CAN_BE_RELATIVE and output and (element != "id" or self.guidislink):
            output = _urljoin("", output)
        params = self.contentparams
        if (
            not self.version.startswith("atom")
            and params.get("type") == "text/plain"
            and _looks_like_html(output)
        ):
            params["type"] = "text/html"
        params.pop("mode", None)
        params.pop("base64", None)
        output = _fixup(output)
        if element in ("category", "tags", "itunes_keywords"):
            return output
        if element == "title" and -1 < self.title_depth <= self.depth:
            return output
        if self.inentry:
            entry = self.entries[-1]
            if element == "content":
                entry.setdefault("content", [])
                entry["content"].append({**params, "value": output})
            elif element == "link":
                if not self.inimage:
                    output = _LINK_ENTITY.sub(r"&\g<1>", output.replace("&amp;", "&"))
                    entry["link"] = output
                    if output:
                        self._last_link(entry)["href"] = output
            else:
                if element == "description":
                    element = "summary"
                depths = self.depth_maps.setdefault(id(entry), {})
                old_depth = depths.get(element)
                if old_depth is None or self.depth <= old_depth:
                    depths[element] = self.depth
                    entry[_KEYMAP.get(element, element)] = output
                if self.incontent:
                    detail = element + "_detail"
                    entry[_KEYMAP.get(detail, detail)] = {**params, "value": output}
        elif self.infeed:
            context = self.context()
            if element == "description":
                element = "subtitle"
            context[_KEYMAP.get(element, element)] = output
            if element == "link":
                output = _LINK_ENTITY.sub(r"&\g<1>", output)
                context[element] = output
                self._last_link(context)["href"] = output
            elif self.incontent:
                detail = element + "_detail"
                context[_KEYMAP.get(detail, detail)] = {**params, "value": output}
        return output

    @staticmethod
    def _last_link(context: dict[str, Any]) -> Any:
        try:
            return context["links"][-1]
        except (KeyError, IndexError) as exc:  # feedparser itself would crash here
            raise Unsupported("link outside of its context") from exc

    def push_content(self, tag: str, attrs: dict[str, str], default: str, expecting: int) -> None:
        self.incontent += 1
        if self.lang:
            self.lang = self.lang.replace("_", "-")
        content_type = _map_content_type(attrs.get("type", default))
        base64 = attrs.get("mode", "") == "base64" or not (
            content_type.startswith("text/") or content_type.endswith(("+xml", "/xml"))
        )
        if base64:
            raise Unsupported(f"base64 content ({content_type})")
        self.contentparams = {"type": content_type, "language": self.lang, "base": ""}
        self.contentparams["base64"] = 0
        self.push(tag, expecting)

    def pop_content(self, tag: str) -> str | None:
        value = self.pop(tag)
        self.incontent -= 1
        self.contentparams.clear()
        return value

    def context(self) -> dict[str, Any]:
        if self.inimage and "image" in self.feeddata:
            return self.feeddata["image"]
        if self.intextinput:
            return self.feeddata["textinput"]
        if self.inentry:
            return self.entries[-1]
        return self.feeddata

    def save(self, key: str, value: Any, overwrite: bool = False) -> None:
        context = self.context()
        if overwrite:
            context[key] = value
        else:
            context.setdefault(key, value)

    # --- authors ----------------------------------------------------------------------------

    def save_author(self, key: str, value: Any, prefix: str = "author") -> None:
        context = self.context()
        context.setdefault(prefix + "_detail", {})
        context[prefix + "_detail"][key] = value
        self.sync_author_detail()
        context.setdefault("authors", [{}])
        context["authors"][-1][key] = value

    def save_contributor(self, key: str, value: Any) -> None:
        context = self.context()
        context.setdefault("contributors", [{}])
        context["contributors"][-1][key] = value

    def sync_author_detail(self, key: str = "author") -> None:
        context = self.context()
        detail = context.get(f"{key}s", [{}])[-1]
        if detail:
            name, email = detail.get("name"), detail.get("email")
            if name and email:
                context[key] = f"{name} ({email})"
            elif name:
                context[key] = name
            elif email:
                context[key] = email
            return
        author, email = context.get(key), None
        if not author:
            return
        match = _AUTHOR_EMAIL.search(author)
        if match:
            email = match.group(0)
            author = author.replace(email, "").replace("()", "").replace("<>", "")
            author = author.replace("&lt;&gt;", "").strip()
            if author and author[0] == "(":
                author = author[1:]
            if author and author[-1] == ")":
                author = author[:-1]
            author = author.strip()
        if author or email:
            context.setdefault(f"{key}_detail", detail)
        if author:
            detail["name"] = author
        if email:
            detail["email"] = email

    def add_tag(self, term: Any, scheme: Any, label: Any) -> None:
        context = self.context()
        tags = context.setdefault("tags", [])
        if not term and not scheme and not label:
            return
        value = dict(term=term, scheme=scheme, label=label)
        if value not in tags:
            tags.append(value)


def _tag_name(element: lxml.etree._Element) -> tuple[str, str, str]:
    """feedparser's name of an element ("dc_creator"), its prefix and its local name."""
    qname = lxml.etree.QName(element)
    namespace = (qname.namespace or "").lower()
    if "backend.userland.com/rss" in namespace:
        namespace = "http://backend.userland.com/rss"
    prefix = _NAMESPACES.get(namespace, element.prefix or "").lower()
    local = qname.localname.lower()
    return (f"{prefix}_{local}" if prefix else local), prefix, local


def _strip_div(pieces: list[str]) -> list[str]:
    """feedparser's removal of an Atom xhtml wrapper <div> (pieces hold no markup here)."""
    while pieces and len(pieces) > 1 and not pieces[-1].strip():
        del pieces[-1]
    while pieces and len(pieces) > 1 and not pieces[0].strip():
        del pieces[0]
    if (
        pieces
        and (pieces[0] == "<div>" or pieces[0].startswith("<div "))
        and pieces[-1] == "</div>"
    ):
        raise Unsupported("xhtml div")  # cannot happen without child elements
    return pieces


# --- handlers: feedparser's _start_*/_end_* for the replayed elements -------------------------


def _start_rss(r: _Replay, attrs: dict[str, str]) -> None:
    if not r.version or not r.version.startswith("rss"):
        attr = attrs.get("version", "")
        r.version = _RSS_VERSIONS.get(attr) or ("rss20" if attr.startswith("2.") else "rss")


def _start_channel(r: _Replay, attrs: dict[str, str]) -> None:
    r.infeed = 1
    if "lastmod" in attrs or "href" in attrs:
        raise Unsupported("CDF attributes")


def _start_feed(r: _Replay, attrs: dict[str, str]) -> None:
    r.infeed = 1
    if not r.version:
        versions = {"0.1": "atom01", "0.2": "atom02", "0.3": "atom03"}
        r.version = versions.get(attrs.get("version", ""), "atom")


def _end_channel(r: _Replay) -> None:
    r.infeed = 0


def _start_image(r: _Replay, attrs: dict[str, str]) -> None:
    context = r.context()
    if not r.inentry:
        context.setdefault("image", {})
    r.inimage = 1
    r.title_depth = -1
    r.push("image", 0)


def _end_image(r: _Replay) -> None:
    r.pop("image")
    r.inimage = 0


def _start_textinput(r: _Replay, attrs: dict[str, str]) -> None:
    r.context().setdefault("textinput", {})
    r.intextinput = 1
    r.title_depth = -1
    r.push("textinput", 0)


def _end_textinput(r: _Replay) -> None:
    r.pop("textinput")
    r.intextinput = 0


def _start_author(r: _Replay, attrs: dict[str, str]) -> None:
    r.inauthor = 1
    r.push("author", 1)
    context = r.context()
    context.setdefault("authors", [])
    context["authors"].append({})


def _end_author(r: _Replay) -> None:
    r.pop("author")
    r.inauthor = 0
    r.sync_author_detail()


def _start_contributor(r: _Replay, attrs: dict[str, str]) -> None:
    r.incontributor = 1
    context = r.context()
    context.setdefault("contributors", [])
    context["contributors"].append({})
    r.push("contributor", 0)


def _end_contributor(r: _Replay) -> None:
    r.pop("contributor")
    r.incontributor = 0


def _start_dc_contributor(r: _Replay, attrs: dict[str, str]) -> None:
    r.incontributor = 1
    context = r.context()
    context.setdefault("contributors", [])
    context["contributors"].append({})
    r.push("name", 0)


def _end_dc_contributor(r: _Replay) -> None:
    _end_name(r)
    r.incontributor = 0


def _end_name(r: _Replay) -> None:
    value = r.pop("name")
    if r.inpublisher:
        r.save_author("name", value, "publisher")
    elif r.inauthor:
        r.save_author("name", value)
    elif r.incontributor:
        r.save_contributor("name", value)
    elif r.intextinput:
        r.context()["name"] = value


def _end_url(r: _Replay) -> None:
    value = r.pop("href")
    if r.inauthor:
        r.save_author("href", value)
    elif r.incontributor:
        r.save_contributor("href", value)


def _end_email(r: _Replay) -> None:
    value = r.pop("email")
    if r.inpublisher:
        r.save_author("email", value, "publisher")
    elif r.inauthor:
        r.save_author("email", value)
    elif r.incontributor:
        r.save_contributor("email", value)


def _pusher(name: str, expecting: int) -> _Handler:
    def start(r: _Replay, attrs: dict[str, str]) -> None:
        r.push(name, expecting)

    return start


def _popper(name: str) -> _EndHandler:
    def end(r: _Replay) -> None:
        r.pop(name)

    return end


def _content_pusher(name: str) -> _Handler:
    def start(r: _Replay, attrs: dict[str, str]) -> None:
        r.push_content(name, attrs, "text/plain", 1)

    return start


def _content_popper(name: str) -> _EndHandler:
    def end(r: _Replay) -> None:
        r.pop_content(name)

    return end


def _start_item(r: _Replay, attrs: dict[str, str]) -> None:
    r.entries.append({})
    r.push("item", 0)
    r.inentry = 1
    r.guidislink = 0
    r.title_depth = -1
    about = attrs.get("rdf:about")
    if about:
        r.context()["id"] = about
    if "lastmod" in attrs or "href" in attrs:
        raise Unsupported("CDF attributes")


def _end_item(r: _Replay) -> None:
    r.pop("item")
    r.inentry = 0
    r.has_content = 0


def _end_language(r: _Replay) -> None:
    r.lang = r.pop("language")


def _end_webmaster(r: _Replay) -> None:
    r.pop("publisher")
    r.sync_author_detail("publisher")


def _start_itunes_owner(r: _Replay, attrs: dict[str, str]) -> None:
    r.inpublisher = 1
    r.push("publisher", 0)


def _end_itunes_owner(r: _Replay) -> None:
    r.pop("publisher")
    r.inpublisher = 0
    r.sync_author_detail("publisher")


def _date_end(name: str) -> _EndHandler:
    def end(r: _Replay) -> None:
        value = r.pop(name)
        r.save(f"{name}_parsed", parse_date(value), overwrite=True)

    return end


def _start_category(r: _Replay, attrs: dict[str, str]) -> None:
    r.add_tag(attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label"))
    r.push("category", 1)


def _start_media_category(r: _Replay, attrs: dict[str, str]) -> None:
    attrs.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
    _start_category(r, attrs)


def _start_itunes_category(r: _Replay, attrs: dict[str, str]) -> None:
    r.add_tag(attrs.get("text"), "http://www.itunes.com/", None)
    r.push("category", 1)


def _end_category(r: _Replay) -> None:
    value = r.pop("category")
    if not value:
        return
    tags = r.context()["tags"]
    if value and len(tags) and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        r.add_tag(value, None, None)


def _start_cloud(r: _Replay, attrs: dict[str, str]) -> None:
    r.context()["cloud"] = dict(attrs)


def _start_link(r: _Replay, attrs: dict[str, str]) -> None:
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    context = r.context()
    attrs = _enforce_href(attrs)
    if "href" in attrs:
        attrs["href"] = _urljoin("", attrs["href"])
    expecting = r.infeed or r.inentry
    context.setdefault("links", [])
    if not (r.inentry and r.inimage):
        context["links"].append(dict(attrs))
    if "href" in attrs:
        if attrs.get("rel") == "alternate" and _map_content_type(attrs["type"]) in _HTML_TYPES:
            context["link"] = attrs["href"]
    else:
        r.push("link", expecting)


def _start_guid(r: _Replay, attrs: dict[str, str]) -> None:
    r.guidislink = attrs.get("ispermalink", "true") == "true"
    r.push("id", 1)


def _end_guid(r: _Replay) -> None:
    value = r.pop("id")
    r.save("guidislink", r.guidislink and "link" not in r.context())
    if r.guidislink:
        r.save("link", value)


def _start_title(r: _Replay, attrs: dict[str, str]) -> None:
    r.push_content("title", attrs, "text/plain", r.infeed or r.inentry)


def _end_title(r: _Replay) -> None:
    value = r.pop_content("title")
    if value:
        r.title_depth = r.depth


def _end_media_title(r: _Replay) -> None:
    title_depth = r.title_depth
    _end_title(r)
    r.title_depth = title_depth


def _start_description(r: _Replay, attrs: dict[str, str]) -> None:
    if "summary" in r.context() and not r.has_content:
        r.summary_key = "content"
        _start_content(r, attrs)
    else:
        r.push_content("description", attrs, "text/html", r.infeed or r.inentry)


def _end_description(r: _Replay) -> None:
    if r.summary_key == "content":
        _end_content(r)
    else:
        r.pop_content("description")
    r.summary_key = None


def _start_summary(r: _Replay, attrs: dict[str, str]) -> None:
    if "summary" in r.context() and not r.has_content:
        r.summary_key = "content"
        _start_content(r, attrs)
    else:
        r.summary_key = "summary"
        r.push_content("summary", attrs, "text/plain", 1)


def _end_summary(r: _Replay) -> None:
    if r.summary_key == "content":
        _end_content(r)
    else:
        r.pop_content(r.summary_key or "summary")
    r.summary_key = None


def _start_content(r: _Replay, attrs: dict[str, str]) -> None:
    r.has_content = 1
    r.push_content("content", attrs, "text/plain", 1)
    src = attrs.get("src")
    if src:
        r.contentparams["src"] = src
    r.push("content", 1)


def _start_content_encoded(r: _Replay, attrs: dict[str, str]) -> None:
    r.has_content = 1
    r.push_content("content", attrs, "text/html", 1)


def _end_content(r: _Replay) -> None:
    content_type = r.contentparams.get("type")
    if content_type is None:
        raise Unsupported("content without a type")
    copy_to_summary = _map_content_type(content_type) in {"text/plain"} | _HTML_TYPES
    value = r.pop_content("content")
    if copy_to_summary:
        r.save("summary", value)


def _start_enclosure(r: _Replay, attrs: dict[str, str]) -> None:
    attrs = _enforce_href(attrs)
    attrs["rel"] = "enclosure"
    r.context().setdefault("links", []).append(dict(attrs))


def _start_generator(r: _Replay, attrs: dict[str, str]) -> None:
    if attrs:
        attrs = _enforce_href(attrs)
        if "href" in attrs:
            attrs["href"] = _urljoin("", attrs["href"])
    r.context()["generator_detail"] = dict(attrs)
    r.push("generator", 1)


def _end_generator(r: _Replay) -> None:
    value = r.pop("generator")
    context = r.context()
    if "generator_detail" in context:
        context["generator_detail"]["name"] = value


def _start_itunes_image(r: _Replay, attrs: dict[str, str]) -> None:
    r.push("itunes_image", 0)
    if attrs.get("href"):
        r.context()["image"] = dict({"href": attrs.get("href")})
    elif attrs.get("url"):
        r.context()["image"] = dict({"href": attrs.get("url")})


def _end_flag(name: str) -> _EndHandler:
    def end(r: _Replay) -> None:
        value = r.pop(name, False)
        r.context()[name] = value  # the value is not read: only the stack matters

    return end


def _start_media_content(r: _Replay, attrs: dict[str, str]) -> None:
    r.context().setdefault("media_content", []).append(attrs)


def _start_media_thumbnail(r: _Replay, attrs: dict[str, str]) -> None:
    context = r.context()
    context.setdefault("media_thumbnail", [])
    r.push("url", 1)
    context["media_thumbnail"].append(attrs)


def _end_media_thumbnail(r: _Replay) -> None:
    url = r.pop("url")
    context = r.context()
    if url is not None and url.strip():
        thumbnails = context.get("media_thumbnail")
        if not thumbnails:
            raise Unsupported("media:thumbnail outside of its context")
        thumbnails[-1].setdefault("url", url)


def _media_detail(key: str, pushed: str, is_list: bool = False) -> tuple[_Handler, _EndHandler]:
    """media:credit, rating, restriction, license: attributes kept, text pushed and popped."""

    def start(r: _Replay, attrs: dict[str, str]) -> None:
        context = r.context()
        if is_list:
            context.setdefault(key, []).append(attrs)
        else:
            context.setdefault(key, attrs)
        r.push(pushed, 1)

    def end(r: _Replay) -> None:
        value = r.pop(pushed)
        if value is not None and value.strip() and key not in r.context():
            raise Unsupported(f"{key} outside of its context")

    return start, end


def _start_media_player(r: _Replay, attrs: dict[str, str]) -> None:
    r.push("media_player", 0)
    r.context()["media_player"] = dict(attrs)


def _end_media_player(r: _Replay) -> None:
    value = r.pop("media_player")
    r.context()["media_player"]["content"] = value


def _nothing(r: _Replay, attrs: dict[str, str]) -> None:
    pass


_STARTS: dict[str, _Handler] = {
    "rss": _start_rss,
    "channel": _start_channel,
    "feed": _start_feed,
    "image": _start_image,
    "textinput": _start_textinput,
    "author": _start_author,
    "managingeditor": _start_author,
    "dc_author": _start_author,
    "dc_creator": _start_author,
    "itunes_author": _start_author,
    "contributor": _start_contributor,
    "dc_contributor": _start_dc_contributor,
    "name": _pusher("name", 0),
    "itunes_name": _pusher("name", 0),
    "width": _pusher("width", 0),
    "height": _pusher("height", 0),
    "url": _pusher("href", 1),
    "homepage": _pusher("href", 1),
    "uri": _pusher("href", 1),
    "email": _pusher("email", 0),
    "itunes_email": _pusher("email", 0),
    "subtitle": _content_pusher("subtitle"),
    "tagline": _content_pusher("subtitle"),
    "itunes_subtitle": _content_pusher("subtitle"),
    "rights": _content_pusher("rights"),
    "copyright": _content_pusher("rights"),
    "dc_rights": _content_pusher("rights"),
    "info": _content_pusher("info"),
    "feedburner_browserfriendly": _content_pusher("info"),
    "item": _start_item,
    "entry": _start_item,
    "language": _pusher("language", 1),
    "dc_language": _pusher("language", 1),
    "webmaster": _pusher("publisher", 1),
    "dc_publisher": _pusher("publisher", 1),
    "itunes_owner": _start_itunes_owner,
    "published": _pusher("published", 1),
    "issued": _pusher("published", 1),
    "pubdate": _pusher("published", 1),
    "dcterms_issued": _pusher("published", 1),
    "updated": _pusher("updated", 1),
    "modified": _pusher("updated", 1),
    "lastbuilddate": _pusher("updated", 1),
    "dc_date": _pusher("updated", 1),
    "dcterms_modified": _pusher("updated", 1),
    "created": _pusher("created", 1),
    "dcterms_created": _pusher("created", 1),
    "expirationdate": _pusher("expired", 1),
    "category": _start_category,
    "keywords": _start_category,
    "dc_subject": _start_category,
    "media_category": _start_media_category,
    "itunes_category": _start_itunes_category,
    "cloud": _start_cloud,
    "link": _start_link,
    "guid": _start_guid,
    "id": _start_guid,
    "title": _start_title,
    "dc_title": _start_title,
    "media_title": _start_title,
    "description": _start_description,
    "dc_description": _start_description,
    "media_description": _start_description,
    "summary": _start_summary,
    "itunes_summary": _start_summary,
    "content": _start_content,
    "content_encoded": _start_content_encoded,
    "enclosure": _start_enclosure,
    "generator": _start_generator,
    "itunes_image": _start_itunes_image,
    "itunes_link": _start_itunes_image,
    "media_group": _nothing,
    "media_content": _start_media_content,
    "media_thumbnail": _start_media_thumbnail,
    "media_player": _start_media_player,
}
_ENDS: dict[str, _EndHandler] = {
    "channel": _end_channel,
    "feed": _end_channel,
    "image": _end_image,
    "textinput": _end_textinput,
    "author": _end_author,
    "managingeditor": _end_author,
    "dc_author": _end_author,
    "dc_creator": _end_author,
    "itunes_author": _end_author,
    "contributor": _end_contributor,
    "dc_contributor": _end_dc_contributor,
    "name": _end_name,
    "itunes_name": _end_name,
    "width": _popper("width"),
    "height": _popper("height"),
    "url": _end_url,
    "homepage": _end_url,
    "uri": _end_url,
    "email": _end_email,
    "itunes_email": _end_email,
    "subtitle": _content_popper("subtitle"),
    "tagline": _content_popper("subtitle"),
    "itunes_subtitle": _content_popper("subtitle"),
    "rights": _content_popper("rights"),
    "copyright": _content_popper("rights"),
    "dc_rights": _content_popper("rights"),
    "info": _content_popper("info"),
    "feedburner_browserfriendly": _content_popper("info"),
    "item": _end_item,
    "entry": _end_item,
    "language": _end_language,
    "dc_language": _end_language,
    "webmaster": _end_webmaster,
    "dc_publisher": _end_webmaster,
    "itunes_owner": _end_itunes_owner,
    "published": _date_end("published"),
    "issued": _date_end("published"),
    "pubdate": _date_end("published"),
    "dcterms_issued": _date_end("published"),
    "updated": _date_end("updated"),
    "modified": _date_end("updated"),
    "lastbuilddate": _date_end("updated"),
    "dc_date": _date_end("updated"),
    "dcterms_modified": _date_end("updated"),
    "created": _date_end("created"),
    "dcterms_created": _date_end("created"),
    "expirationdate": _date_end("expired"),
    "category": _end_category,
    "keywords": _end_category,
    "dc_subject": _end_category,
    "media_category": _end_category,
    "itunes_category": _end_category,
    "link": _popper("link"),
    "guid": _end_guid,
    "id": _end_guid,
    "title": _end_title,
    "dc_title": _end_title,
    "media_title": _end_media_title,
    "description": _end_description,
    "dc_description": _end_description,
    "media_description": _end_description,
    "summary": _end_summary,
    "itunes_summary": _end_summary,
    "content": _end_content,
    "content_encoded": _end_content,
    "generator": _end_generator,
    "itunes_block": _end_flag("itunes_block"),
    "itunes_explicit": _end_flag("itunes_explicit"),
    "media_thumbnail": _end_media_thumbnail,
    "media_player": _end_media_player,
}
for _key, _pushed, _is_list in (
    ("media_credit", "credit", True),
    ("media_rating", "rating", False),
    ("media_restriction", "restriction", False),
    ("media_license", "license", False),
):
    _STARTS[_key], _ENDS[_key] = _media_detail(_key, _pushed, _is_list)


# --- the direct reading of simple items ---------------------------------------------------
#
# An RSS item or Atom entry whose children are leaves among a few known elements (title,
# link, guid/id, description/summary/content, content:encoded, dates, one author, categories
# and a few inert extensions) is read here without the element-by-element replay: each child
# applies the same steps its feedparser handlers would (see `_Replay.pop`), in document
# order. Anything else, or a second element for the same field, leaves the item to the replay.

_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_ITEM_TAGS = frozenset({"item", f"{{{_RSS10}}}item", "{http://www.w3.org/2005/Atom}entry"})
_GUIDISLINK_STATE = " guidislink"  # entry keys that carry state back, popped before use
_CONTENT_PUSHES = " contents"
_TEXTS = {"title": "text/plain", "description": "text/html", "summary": "text/plain"}
_DATES = {
    "pubdate": "published",
    "published": "published",
    "issued": "published",
    "updated": "updated",
    "modified": "updated",
    "dc_date": "updated",
}
_AUTHORS = frozenset({"author", "dc_creator", "dc_author"})
_AUTHOR_PARTS = {"name": "name", "uri": "href", "email": "email"}
# Leaves whose feedparser handlers only touch keys that are not read (tags, links, comments…).
_INERT = frozenset(
    {
        "category", "dc_subject", "comments", "wfw_commentrss", "wfw_comment",
        "slash_comments", "enclosure", "media_thumbnail", "media_content",
    }
)  # fmt: skip
_NAMES: dict[str, str | None] = {}  # Clark tag -> feedparser name; None: prefix-dependent


def _name(tag: str) -> str | None:
    name = _NAMES.get(tag, "")
    if name == "":
        namespace, _, local = tag[1:].rpartition("}") if tag[0] == "{" else ("", "", tag)
        lower = namespace.lower()
        if "backend.userland.com/rss" in lower:
            lower = "http://backend.userland.com/rss"
        if namespace and lower not in _NAMESPACES:
            name = None
        else:
            prefix = _NAMESPACES.get(lower, "")
            name = f"{prefix}_{local.lower()}" if prefix else local.lower()
        _NAMES[tag] = name
    return name


def _plain_attrs(element: lxml.etree._Element) -> dict[str, str] | None:
    """Attributes as the replay's `start` gives them, None where it would raise or rebase."""
    attrs: dict[str, str] = {}
    for key, value in element.items():
        if key[0] == "{":
            return None
        attrs[key.lower()] = value
    if len(attrs) < len(element.attrib) or "base" in attrs or "lang" in attrs:
        return None
    for key in ("rel", "type"):
        if key in attrs:
            attrs[key] = attrs[key].lower()
    return attrs


def _sniffed_type(r: _Replay, text: str, content_type: str) -> str:
    """`pop`'s content type: plain text that looks like HTML is HTML outside Atom (it needs
    an end tag or a character reference)."""
    if (
        content_type == "text/plain"
        and ("</" in text or "&" in text)
        and not r.version.startswith("atom")
        and _looks_like_html(text)
    ):
        return "text/html"
    return content_type


# What each direct child is: a text construct (with its entry key and default type), a
# content, a link, a guid/id, a date (entry key), an author, an origlink, or inert.
_TEXT, _CONTENT, _LINK, _GUID, _DATE, _AUTHOR, _ORIGLINK, _SKIP = range(8)
_KINDS: dict[str, tuple[int, str, str]] = {
    "title": (_TEXT, "title", "text/plain"),
    "description": (_TEXT, "summary", "text/html"),
    "summary": (_TEXT, "summary", "text/plain"),
    "content": (_CONTENT, "content", "text/plain"),
    "content_encoded": (_CONTENT, "content_encoded", "text/html"),
    "link": (_LINK, "link", ""),
    "guid": (_GUID, "id", ""),
    "id": (_GUID, "id", ""),
    "feedburner_origlink": (_ORIGLINK, "feedburner_origlink", ""),
    **{name: (_DATE, key, "") for name, key in _DATES.items()},
    **{name: (_AUTHOR, "author", "") for name in _AUTHORS},
    **{name: (_SKIP, "", "") for name in _INERT},
}
_TAG_KINDS: dict[str, tuple[int, str, str] | None] = {}  # Clark tag -> kind


def _kind(tag: str) -> tuple[int, str, str] | None:
    try:
        return _TAG_KINDS[tag]
    except KeyError:
        name = _name(tag)
        kind = _TAG_KINDS[tag] = _KINDS.get(name) if name else None
        return kind


def _direct_entry(r: _Replay, item: lxml.etree._Element) -> dict[str, Any] | None:
    entry: dict[str, Any] = {}
    about = item.get(_RDF_ABOUT)
    if about:
        entry["id"] = about
    seen: set[str] = set()  # fields stored through the depth map, and the one author
    guidislink = 0
    has_content = 0
    contents = 0
    lang = r.lang.replace("_", "-") if r.lang else r.lang
    for child in item:
        tag = child.tag
        kind = _TAG_KINDS.get(tag) if isinstance(tag, str) else None
        if kind is None and (not isinstance(tag, str) or (kind := _kind(tag)) is None):
            return None
        code, key, default = kind
        if len(child):
            if code != _AUTHOR and not (
                tag == _MEDIA_CONTENT and _inert_media(child, bool(entry.get("title")))
            ):
                return None
            text = ""
        else:
            text = child.text or ""
            if text:
                text = text.strip()
        attrs = _plain_attrs(child) if child.attrib else {}
        if attrs is None:
            return None
        if code == _SKIP:
            continue
        if code <= _CONTENT:  # _TEXT, _CONTENT
            if code == _TEXT:
                if key == "summary" and "summary" in entry and not has_content:
                    return None  # feedparser reads it as content then
                if key in seen or (attrs and default == "text/html"):
                    return None
                seen.add(key)
            else:
                if "src" in attrs:
                    return None
                has_content = 1
                contents += key == "content"
            content_type = _map_content_type(attrs["type"]) if "type" in attrs else default
            if content_type not in _TEXT_TYPES and (
                content_type == "application/xhtml+xml"
                or not (content_type.startswith("text/") or content_type.endswith(("+xml", "/xml")))
            ):
                return None
            if attrs.get("mode", "") == "base64":
                return None
            copy_to_summary = content_type == "text/plain" or content_type in _HTML_TYPES
            content_type = _sniffed_type(r, text, content_type)
            value = text if text.isascii() else _fixup(text)
            detail = {"type": content_type, "language": lang, "base": "", "value": value}
            if code == _CONTENT:
                entry.setdefault("content", []).append(detail)
                if copy_to_summary:
                    entry.setdefault("summary", value)
            else:
                entry[key] = value
                entry[f"{key}_detail"] = detail
        elif code == _LINK:
            if attrs:
                attrs.setdefault("rel", "alternate")
                attrs.setdefault(
                    "type", "application/atom+xml" if attrs["rel"] == "self" else "text/html"
                )
                attrs = _enforce_href(attrs)
                if "href" not in attrs or len(child):
                    return None
                if attrs["rel"] == "alternate" and _map_content_type(attrs["type"]) in _HTML_TYPES:
                    entry["link"] = _join(attrs["href"])
            else:
                if "link" in seen:
                    return None
                seen.add("link")
                value = _fixup(_join(text))
                if "&" in value:
                    value = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
                entry["link"] = value
        elif code == _GUID:
            if "id" in seen:
                return None
            seen.add("id")
            guidislink = attrs.get("ispermalink", "true") == "true"
            value = _fixup(_join(text) if guidislink else text)
            entry["id"] = value
            entry.setdefault("guidislink", guidislink and "link" not in entry)
            if guidislink:
                entry.setdefault("link", value)
        elif code == _DATE:
            if key in seen:
                return None
            seen.add(key)
            value = _fixup(text)
            entry[key] = value
            entry[f"{key}_parsed"] = LazyDate(value)
        elif code == _AUTHOR:
            if "author" in seen or attrs or not _direct_author(entry, child):
                return None
            seen.add("author")
        else:  # _ORIGLINK
            if key in seen or attrs:
                return None
            seen.add(key)
            entry[key] = _fixup(text)
    entry[_GUIDISLINK_STATE] = guidislink
    entry[_CONTENT_PUSHES] = contents
    return entry


_TEXT_TYPES = frozenset({"text/plain", "text/html"})
_MEDIA = "http://search.yahoo.com/mrss/"
_MEDIA_CONTENT = f"{{{_MEDIA}}}content"
_MEDIA_INERT = frozenset({f"{{{_MEDIA}}}credit", f"{{{_MEDIA}}}thumbnail"})


def _inert_media(content: lxml.etree._Element, titled: bool) -> bool:
    """A media:content whose children change no field read: credits, thumbnails, and a
    media:title after the item's own non-empty title (feedparser's title depth rule then
    drops it)."""
    for child in content:
        tag = child.tag
        if not isinstance(tag, str) or len(child) or (child.attrib and _plain_attrs(child) is None):
            return False
        if tag == f"{{{_MEDIA}}}title":
            if not titled or child.get("type", "text").lower() not in ("text", "html", "plain"):
                return False
        elif tag not in _MEDIA_INERT:
            return False
    return True


def _join(uri: str) -> str:
    """feedparser's `_urljoin("", uri)`: with no base, only slashes after "://" go."""
    return _urljoin("", uri) if ":///" in uri else uri


def _direct_author(entry: dict[str, Any], author: lxml.etree._Element) -> bool:
    """An author element: its text ("e-mail (Name)") or name/uri/email leaves."""
    if not len(author):
        text = _fixup((author.text or "").strip())
        if text:
            name, email = _split_author(text)
            detail = {}
            if name:
                detail["name"] = name
            if email:
                detail["email"] = email
            entry["author_detail"] = detail
        return True
    detail = {}
    for part in author:
        key = _AUTHOR_PARTS.get(_name(part.tag) or "") if isinstance(part.tag, str) else None
        if key is None or len(part) or part.attrib:
            return False
        value = (part.text or "").strip()
        if key == "href":
            value = _fixup(_join(value))
        detail[key] = value
    entry["author_detail"] = detail
    return True


def _split_author(author: str) -> tuple[str, str | None]:
    """`sync_author_detail` on an author given as one text."""
    email = None
    match = _AUTHOR_EMAIL.search(author)
    if match:
        email = match.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "")
        author = author.replace("&lt;&gt;", "").strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    return author, email
