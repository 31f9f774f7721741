"""The scan's prefilter: feed entries that cannot become mentions are skipped before their
items are built. It may only err towards keeping: whatever the full match keeps without
it, it keeps with it (corpus feeds, hostile markup, community links)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import CORPUS, manifest
from ereput.cli import app
from ereput.fetchers.feed_parse import parse_feed, plain_text
from ereput.matching import compile_query
from ereput.models import Query, Source, Watchlist
from ereput.services import scan
from ereput.text import fold, split_words
from feedsite import Entry, rss, watchlist
from httpserver import Response

NOW = datetime(2026, 11, 25, tzinfo=UTC)
FEEDS = sorted(p for p, row in manifest().items() if row["kind"] == "feeds")
BRAND = Query(terms=('"Acme Cloud"', "acme.io"), exclude=('"Acme Corporation"',))


def keep_for(query: Query, name: str = "wl") -> scan.Keep:
    wl = Watchlist(name=name, query=query, sources=())
    scan._init_worker([wl])
    keep = scan.keep_for(wl, Source("s", "feed", "https://feeds.example.org/feed"))
    assert keep is not None
    return keep


def matched_urls(path: str, query: Query, keep: scan.Keep | None) -> set[str]:
    matcher = compile_query(query)
    body = (CORPUS / path).read_bytes()
    items = parse_feed(body, "https://feeds.example.org/feed", now=NOW, keep=keep).items
    return {i.url for i in items if matcher.match(i.title, i.text)}


def words_of(path: str) -> list[str]:
    """Longer words from the feed's items, in order: queries the feed surely answers."""
    items = parse_feed((CORPUS / path).read_bytes(), "https://feeds.example.org/feed").items
    found: list[str] = []
    for item in items:
        for w in split_words(fold(f"{item.title} {item.text}")):
            if len(w) >= 7 and w not in found and not w.isdigit():
                found.append(w)
                break
    return found


@pytest.mark.parametrize("path", [p for p in FEEDS if not p.endswith(".json")])
def test_prefilter_keeps_every_corpus_entry_the_query_matches(path):
    words = words_of(path)
    if not words:
        pytest.skip("no item with a long word")
    # A word from the first item, a phrase of two from another, an OR, an exclusion.
    terms = [words[0], f'"{words[-1]}"', f"{words[len(words) // 2]} OR zzzunknownzzz"]
    query = Query(terms=tuple(terms), exclude=("zzzexcludedzzz",))
    keep = keep_for(query)
    without = matched_urls(path, query, None)
    assert without, "the query was built to match"
    assert matched_urls(path, query, keep) == without


def test_prefilter_skips_entries_without_the_brand():
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(
            f"<item><title>Post {n}</title><link>https://b.example/{n}</link>"
            f"<description>{text}</description></item>"
            for n, text in enumerate(["cloud hosting news", "Acme Cloud is down", "io stuff"])
        )
        + "</channel></rss>"
    ).encode()
    keep = keep_for(BRAND)
    items = parse_feed(feed, "https://b.example/feed", keep=keep).items
    assert [i.url for i in items] == ["https://b.example/1"]
    assert len(parse_feed(feed, "https://b.example/feed").items) == 3


@pytest.mark.parametrize(
    "raw",
    [
        "Acme Cloud",
        "<p>ACMÉ <b>CLOUD</b></p>",
        "Ac<b>me</b> Cl<i>oud</i> rocks",  # tags inside the words
        "Acm&eacute; Cloud",  # an entity inside a word
        "&#65;cme&#x20;Cloud",
        "Acme\u0301 Cloud",  # a combining accent
        "ＡＣＭＥ Ｃｌｏｕｄ",  # fullwidth letters (NFKD)
        "visit acm&#233;.io today",
        "<p>Acme</p><p>Cloud</p>",
    ],
)
def test_prefilter_lets_through_every_markup_that_matches(raw):
    matcher = compile_query(BRAND)
    assert matcher.match("", plain_text(raw, True)), "the case must match once read"
    assert matcher.may_match_markup([raw])


def test_prefilter_refuses_markup_that_cannot_match():
    matcher = compile_query(BRAND)
    for raw in ("<p>Acmé alone</p>", "cloud computing", "a tale of clouds", "Wile E. Coyote"):
        assert not matcher.may_match_markup([raw]), raw
    # Words are looked for as substrings: loose, never strict.
    assert matcher.may_match_markup(["Acmeville cloud"])


def test_large_queries_use_one_pass_and_agree_with_the_small_path():
    terms = tuple(f'word{n} OR "phrase {n} here"' for n in range(200)) + BRAND.terms
    big = compile_query(Query(terms=terms))
    small = compile_query(BRAND)
    for raw in ("Acme Cloud", "no brand at all", "phrase 7 here", "word12", "acme io"):
        expected = bool(small.may_match_markup([raw])) or "phrase 7" in raw or "word12" in raw
        assert big.may_match_markup([raw]) == expected, raw
    # Short trigger words are tested apart from the automaton, which may then be empty.
    short = compile_query(Query(terms=tuple(f"q{n}" for n in range(40))))
    for raw, expected in (("see q17 here", True), ("Q3", True), ("q", False), ("none", False)):
        assert short.may_match_markup([raw]) == expected, raw


# Text fragments, each with markup that still reads as it.
_WORDS = ["Acme", "ACMÉ", "acmé", "Cloud", "CLOUD", "cloud", "io", "acme.io", "Acmeville", "the"]
_SEPARATORS = [" ", "  ", "\n", ". ", ", ", "<br>", "</p><p>", " <b>", "</b> ", "&nbsp;", " - "]


@st.composite
def marked_up(draw: st.DrawFn) -> str:
    parts = []
    for word in draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8)):
        encoded = "".join(
            draw(st.sampled_from([c, f"&#{ord(c)};", escape(c)])) if c.isalpha() else c
            for c in word
        )
        if draw(st.booleans()) and len(encoded) > 2:  # a tag inside the word
            cut = draw(st.integers(1, len(encoded) - 1))
            if "&" not in encoded[max(0, cut - 8) : cut + 1]:
                encoded = f"{encoded[:cut]}<i>{encoded[cut:]}</i>"
        parts.append(encoded)
        parts.append(draw(st.sampled_from(_SEPARATORS)))
    return "<p>" + "".join(parts) + "</p>"


@given(marked_up())
def test_prefilter_never_drops_what_the_full_match_keeps(raw):
    matcher = compile_query(BRAND)
    if matcher.match("", plain_text(raw, True)):
        assert matcher.may_match_markup([raw])


def test_a_scan_keeps_unmatched_entries_linking_into_a_community_space(http_server, tmp_path):
    community = "https://forum.acme.example/"
    http_server.routes["/feed.xml"] = Response(
        rss(
            [
                Entry("A question", f"{community}t/42", text="How do I reset my password?"),
                Entry("Weather", "https://news.example/w", text="Rain tomorrow."),
                Entry("Outage", "https://news.example/o", text="Acme Cloud was down for an hour."),
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    wl = watchlist(
        tmp_path / "w.toml",
        [("alerts", http_server.url("/feed.xml"))],
        terms=['"Acme Cloud"'],
        name="acme",
        community=[community],
    )
    db = tmp_path / "e.db"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--quiet"]).exit_code == 0
    out = runner.invoke(app, ["--db", str(db), "-w", str(wl), "mentions", "--json"])
    spaces = {m["url"]: m["space"] for m in json.loads(out.stdout)}
    assert spaces == {f"{community}t/42": "community", "https://news.example/o": "open"}
