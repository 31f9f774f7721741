"""Small builders for end-to-end tests: RSS bodies and watchlists over local servers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Entry:
    title: str
    link: str
    author: str = ""
    text: str = ""
    date: str = "Mon, 16 Nov 2026 09:00:00 GMT"


def rss(entries: Iterable[Entry], *, title: str = "A feed") -> bytes:
    """An RSS 2.0 body; every field XML-escaped (hostile strings stay strings)."""
    items = "".join(
        "<item>"
        f"<title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f"<guid>{escape(e.link)}</guid>"
        + (f"<dc:creator>{escape(e.author)}</dc:creator>" if e.author else "")
        + (f"<description>{escape(e.text)}</description>" if e.text else "")
        + (f"<pubDate>{escape(e.date)}</pubDate>" if e.date else "")
        + "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>{items}"
        "</channel></rss>"
    ).encode()


def watchlist(
    path: Path,
    sources: Sequence[tuple[str, str]],
    *,
    terms: Sequence[str] = ("acme",),
    fetch: dict[str, float | int] | None = None,
    name: str = "hostile",
    community: Sequence[str] = (),
) -> Path:
    """A watchlist of `feed` sources (name, url), with an optional `[fetch]` table and
    community spaces."""
    lines = [f'name = "{name}"', "", "[query]", f"terms = {json.dumps(list(terms))}", ""]
    if community:
        lines += ["[community]", f"spaces = {json.dumps(list(community))}", ""]
    if fetch:
        lines.append("[fetch]")
        lines += [f"{k} = {v!r}" for k, v in fetch.items()]
        lines.append("")
    for source, url in sources:
        lines += ["[[sources]]", f'name = "{source}"', 'kind = "feed"', f"url = {json.dumps(url)}"]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def mention_rows(db: Path) -> list[tuple[str, str]]:
    """(source, url) of every stored mention, read with plain sqlite3."""
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT source, url FROM mentions").fetchall())


def database_text(db: Path) -> str:
    """Every value of every table, as one string (to search for leaked content)."""
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())
