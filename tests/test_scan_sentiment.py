"""A real scan of a feed on 127.0.0.1: every stored mention gets its language and its
sentiment, and the watchlist's `languages` keeps only the items in those languages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from httpserver import Response

ITEMS = {
    "down": "Acme Cloud is down again, the dashboard stopped working and support never answers.",
    "genial": "Acme Cloud est vraiment génial : le support a répondu en cinq minutes et tout "
    "fonctionne parfaitement depuis la migration.",
    "langsam": "Acme Cloud ist seit gestern sehr langsam und der Kundendienst antwortet nicht "
    "mehr auf unsere Anfragen.",
    "short": "Acme Cloud, meh.",
}


def feed(base: str) -> str:
    entries = "".join(
        f"""<item><title>{key}</title><link>{base}/posts/{key}</link>
        <guid>{base}/posts/{key}</guid><pubDate>Mon, 16 Nov 2026 09:00:00 GMT</pubDate>
        <description>{text}</description></item>"""
        for key, text in ITEMS.items()
    )
    # The feed says English; its items are not all English.
    return f"""<?xml version="1.0" encoding="utf-8"?>
    <rss version="2.0"><channel><title>Reviews</title><link>{base}/</link>
    <language>en-US</language><description>Reviews</description>{entries}</channel></rss>"""


def scan(tmp_path: Path, base: str, languages: str) -> dict[str, dict]:
    wl = tmp_path / "acme.toml"
    wl.write_text(
        textwrap.dedent(f"""\
        name = "acme"
        [query]
        terms = ['"Acme Cloud"']
        {languages}
        [[sources]]
        name = "reviews"
        kind = "feed"
        url = "{base}/feed.xml"
        """),
        encoding="utf-8",
    )
    db = tmp_path / "e.db"
    run = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert run.exit_code == 0, run.output
    listed = CliRunner().invoke(
        app, ["--db", str(db), "-w", str(wl), "mentions", "--json", "--limit", "0"]
    )
    assert listed.exit_code == 0, listed.output
    return {m["url"].rsplit("/", 1)[1]: m for m in json.loads(listed.stdout)}


@pytest.fixture
def site(http_server):
    http_server.routes["/feed.xml"] = Response(
        feed(http_server.origin), headers={"Content-Type": "application/rss+xml"}
    )
    return http_server


def test_stored_mentions_carry_language_and_sentiment(site, tmp_path: Path) -> None:
    mentions = scan(tmp_path, site.origin, 'languages = ["en", "fr"]')

    assert set(mentions) == {"down", "genial", "short"}  # the German post is not stored
    down, genial, short = mentions["down"], mentions["genial"], mentions["short"]
    assert (down["language"], down["sentiment_label"]) == ("en", "negative")
    assert -1 <= down["sentiment"] < 0
    # Detected French, although the feed declares English.
    assert (genial["language"], genial["sentiment_label"]) == ("fr", "positive")
    assert 0 < genial["sentiment"] <= 1
    # Too short to tell: the feed's language.
    assert short["language"] == "en"
    assert short["sentiment_label"] == "negative"


def test_without_a_languages_filter_every_language_is_kept(site, tmp_path: Path) -> None:
    mentions = scan(tmp_path, site.origin, "")

    assert set(mentions) == set(ITEMS)
    # German is detected, and gets no sentiment rather than a wrong one.
    assert mentions["langsam"]["language"] == "de"
    assert mentions["langsam"]["sentiment"] is None
    assert mentions["langsam"]["sentiment_label"] is None
