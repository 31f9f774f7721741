"""A seeded fuzz run of every parser on mutated corpus files: byte flips, truncations,
duplicated tags, hostile insertions, and for JSON values of the wrong type. A parser may
refuse a page with one of ereput's own errors (the source then fails alone); any other
exception is a bug, since a parser runs on whatever a server sends."""

from __future__ import annotations

import json
import os
import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from conftest import CORPUS, manifest
from ereput.errors import EreputError
from ereput.fetchers import (
    activitypub,
    blog_parse,
    discourse,
    flarum,
    hackernews,
    mastodon,
    nodebb,
    phpbb,
    reddit,
    smf,
    vbulletin,
    xenforo,
)
from ereput.fetchers.feed_parse import parse_feed

# Mutants per file (fewer for large pages); EREPUT_FUZZ_SEED explores other mutants.
MUTANTS = {50_000: 8, 200_000: 4, None: 2}
SEED = int(os.environ.get("EREPUT_FUZZ_SEED", "0"))
NOW = datetime(2026, 11, 25, tzinfo=UTC)
URL = "https://example.org/some/page"
Parser = Callable[[bytes], object]

INSERTIONS = [
    b"\x00",
    b"\xff\xfe\xfd",
    b"\xc3",
    b"]]>",
    b"<![CDATA[",
    b"<!--",
    b"&#0;",
    b"&#xD800;",
    b"&lol;",
    b"&amp",
    b"</",
    b"<a href='javascript:alert(1)'>",
    b"<script>alert(1)</script>",
    "\u202e\u200b".encode(),
    b"\x1b[2J",
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b"a" * 300_000,
    b"<b>" * 5000,
    b"9999-99-99T99:99:99Z",
    b'"',
    b"{",
    b"[",
]
WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    1e308,
    True,
    "",
    "x" * 100_000,
    [],
    {},
    [None],
    {"": None},
    "javascript:alert(1)",
    "\x00",
    "9999-99-99",
]

HTML_ENGINES = {
    "phpbb": (phpbb.parse_topic, phpbb.parse_listing),
    "xenforo": (xenforo.parse_topic, xenforo.parse_listing),
    "vbulletin": (vbulletin.parse_topic, vbulletin.parse_listing),
    "smf": (smf.parse_topic, smf.parse_listing),
}
JSON_PARSERS: dict[str, Parser] = {
    "discourse": lambda b: discourse.parse_posts(b, URL, "Title", "slug"),
    "nodebb.topic": lambda b: nodebb.parse_topic(b, URL),
    "nodebb.listing": lambda b: nodebb.parse_listing(b, URL),
    "flarum.topic": lambda b: flarum.parse_topic(b, URL),
    "flarum.listing": lambda b: flarum.parse_listing(b, URL),
    "mastodon": lambda b: mastodon.parse_statuses(b, URL),
    "mastodon.account": lambda b: mastodon.parse_account_id(b, URL),
    "reddit": lambda b: reddit.parse_listing(b, URL),
    "hackernews": lambda b: hackernews.parse_search(b, URL),
    "activitypub.object": lambda b: activitypub.parse_object(b, URL),
    "activitypub.actor": lambda b: activitypub.parse_actor(b, URL),
    "wp.posts": lambda b: blog_parse.parse_wp_posts(b, URL, now=NOW),
    "wp.comments": lambda b: blog_parse.parse_wp_comments(b, URL, now=NOW),
    "feed": lambda b: parse_feed(b, URL, "application/feed+json", now=NOW),
}


def parsers_for(path: str, row: dict[str, Any], rng: random.Random) -> dict[str, Parser]:
    kind, platform = row["kind"], row["platform"]
    if path.endswith(".json"):
        return JSON_PARSERS
    if kind == "feeds":
        return {
            "feed": lambda b: parse_feed(b, URL, None, now=NOW),
            "comment_feed": lambda b: blog_parse.parse_comment_feed(b, URL, now=NOW),
        }
    if kind == "forums":
        # The page's own engine and one other: every engine meets pages not its own.
        names = [platform] if platform in HTML_ENGINES else []
        names.append(rng.choice(sorted(set(HTML_ENGINES) - set(names))))
        out: dict[str, Parser] = {}
        for name in names:
            topic, listing = HTML_ENGINES[name]
            out[f"{name}.topic"] = partial(topic, url=URL)
            out[f"{name}.listing"] = partial(listing, url=URL)
        return out
    return {"blog": lambda b: blog_parse.parse_blog_page(b, URL, now=NOW)}


# --- mutations -------------------------------------------------------------------------------


def flip(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 32)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def delete(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 4096) :]


def insert(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(INSERTIONS) + data[i:]


def duplicate_tag(data: bytes, rng: random.Random) -> bytes:
    """A span starting at a tag, copied many times somewhere else (nesting bombs, repeated
    elements, unbalanced markup)."""
    starts = [i for i in range(len(data)) if data[i : i + 1] == b"<"][:5000]
    if not starts:
        return insert(data, rng)
    start = rng.choice(starts)
    end = data.find(b">", start)
    end = end + 1 if end >= 0 and rng.random() < 0.5 else start + rng.randint(1, 2048)
    span = data[start:end]
    at = rng.randrange(len(data) + 1)
    return data[:at] + span * rng.randint(2, 200) + data[at:]


def wrong_types(data: bytes, rng: random.Random) -> bytes:
    """JSON with some values replaced by values of another type (or removed)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return flip(data, rng)
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            nodes.extend((node, k) for k in node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            nodes.extend((node, i) for i in range(len(node)))
            for v in node:
                walk(v)

    walk(doc)
    for _ in range(rng.randint(1, 12)):
        if not nodes:
            break
        parent, key = rng.choice(nodes)
        present = key in parent if isinstance(parent, dict) else key < len(parent)
        if not present:  # under a value replaced or removed earlier
            continue
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[key]
        else:
            parent[key] = rng.choice(WRONG_VALUES)
    return json.dumps(doc).encode()


MUTATIONS = [flip, truncate, delete, insert, duplicate_tag]


def mutate(data: bytes, rng: random.Random, is_json: bool) -> bytes:
    if not data:
        return rng.choice(INSERTIONS)
    ops = MUTATIONS + ([wrong_types, wrong_types, wrong_types] if is_json else [])
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(ops)(data, rng) or b" "
    return data


# --- the run ---------------------------------------------------------------------------------

FILES = sorted(manifest().items())


@pytest.mark.slow
@pytest.mark.parametrize(("path", "row"), FILES, ids=[p for p, _ in FILES])
def test_parsers_survive_mutated_corpus_files(path: str, row: dict[str, Any]) -> None:
    original = (CORPUS / path).read_bytes()
    seed = zlib.crc32(path.encode()) + SEED  # seeded per file: reproducible alone
    rng = random.Random(seed)
    parsers = parsers_for(path, row, rng)
    mutants = next(n for size, n in MUTANTS.items() if size is None or len(original) < size)
    cases = [original] + [mutate(original, rng, path.endswith(".json")) for _ in range(mutants)]
    for n, body in enumerate(cases):
        for name, parse in parsers.items():
            try:
                parse(body)
            except EreputError:
                pass
            except Exception as e:  # pragma: no cover - the assertion below reports it
                raise AssertionError(
                    f"{name} raised {type(e).__name__}: {e} on mutant {n} of {path} (seed {seed})"
                ) from e
