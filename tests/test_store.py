"""The store's rules: layered de-duplication, edits, richer fields, threads, members."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ereput.identifiers import url_identifier
from ereput.matching import compile_query
from ereput.models import (
    Account,
    Community,
    Identifier,
    Item,
    Member,
    Query,
    Source,
    Space,
    Watchlist,
)
from ereput.services.scan import select_mentions
from ereput.store import Mention, Store

T0 = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
LONG = "Acme Cloud a connu une panne de stockage. " * 5


def wl(members=(), spaces=()) -> Watchlist:
    return Watchlist(
        name="acme",
        query=Query(terms=("acme",)),
        sources=(
            Source("a", "feed", "https://a.example/feed"),
            Source("b", "feed", "https://b.example/feed"),
        ),
        community=Community(spaces=tuple(spaces), members=tuple(members)),
    )


def mention(
    url,
    *,
    source="a",
    text="acme rocks",
    title="t",
    author=None,
    entry_id=None,
    space=Space.OPEN,
    matched=("acme",),
) -> Mention:
    item = Item(url=url, title=title, text=text, published=T0, author=author, entry_id=entry_id)
    return Mention("acme", source, "feed", item, url, space, tuple(matched), T0, False, T0)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "s.db")
    s.sync_sources(wl())
    yield s
    s.close()


def save(store, *mentions):
    with store.transaction():
        return store.save_mentions(mentions)


def count(store) -> int:
    return store.query("SELECT count(*) FROM mentions")[0][0]


def test_same_canonical_url_twice_is_one_mention(store):
    assert save(store, mention("https://x.example/1")).new == 1
    again = save(store, mention("https://x.example/1"))
    assert (again.new, again.updated) == (0, 0)
    assert count(store) == 1


def test_entry_id_wins_over_a_changed_url(store):
    save(store, mention("https://x.example/1", entry_id="guid-1"))
    moved = save(
        store, mention("https://x.example/1-renamed", entry_id="guid-1", text="acme rocks, edited")
    )
    assert (moved.new, moved.updated) == (0, 1)
    assert count(store) == 1
    assert store.query("SELECT text FROM mentions")[0][0] == "acme rocks, edited"


def test_syndicated_copy_with_the_same_long_text_is_not_a_new_mention(store):
    save(store, mention("https://x.example/1", text=LONG))
    copy = save(store, mention("https://mirror.example/copy", source="b", text=LONG))
    assert copy.new == 0
    assert count(store) == 1


def test_other_source_only_enriches_same_source_edits(store):
    save(store, mention("https://x.example/1", text="acme: long text from the page itself"))
    excerpt = save(store, mention("https://x.example/1", source="b", text="acme: long"))
    assert excerpt.updated == 0
    named = save(
        store,
        mention(
            "https://x.example/1",
            source="b",
            text="acme: long text from the page itself",
            author=Account("x.example", "Léa"),
        ),
    )
    assert named.updated == 1
    row = store.query("SELECT text, author_name FROM mentions")[0]
    assert row["author_name"] == "Léa"
    assert row["text"] == "acme: long text from the page itself"


def test_accounts_identifiers_and_classes(store):
    url = url_identifier("https://blog.example/lea")
    with_id = Account("x.example", "Léa", (url,))
    bare = Account("x.example", "Bob")
    placeholder = Account("x.example", "Anonymous")
    save(
        store,
        mention("https://x.example/1", author=with_id),
        mention("https://x.example/2", author=bare),
        mention("https://x.example/3", author=bare),
        mention("https://x.example/4", author=placeholder),
        mention("https://x.example/5", author=placeholder),
        mention("https://y.example/6", author=Account("y.example", "Bob")),
        mention("https://y.example/7", author=Account("y.example", "Léa L.", (url,))),
    )
    rows = {r["url"]: r for r in store.query("SELECT * FROM mentions")}
    assert rows["https://x.example/1"]["author_class"] == "identified"
    assert rows["https://x.example/2"]["author_class"] == "anonymous"
    # The same bare name twice on one site is one account; on two sites, two.
    assert rows["https://x.example/2"]["person_id"] == rows["https://x.example/3"]["person_id"]
    assert rows["https://x.example/2"]["person_id"] != rows["https://y.example/6"]["person_id"]
    # Placeholder names never share an account.
    assert rows["https://x.example/4"]["person_id"] != rows["https://x.example/5"]["person_id"]
    # A shared identifier makes one person across sites.
    assert rows["https://x.example/1"]["person_id"] == rows["https://y.example/7"]["person_id"]


def test_members_are_linked_by_identifier_even_when_declared_later(store):
    julie_url = "https://forum.acme.example/u/julie"
    save(
        store,
        mention(
            "https://x.example/1",
            author=Account("forum.acme.example", "J.M.", (url_identifier(julie_url),)),
        ),
    )
    assert store.query("SELECT author_class FROM mentions")[0][0] == "identified"
    member = Member("Julie Marchand", "community_manager", (url_identifier(julie_url),))
    store.sync_members(wl(members=[member]))
    row = store.query("SELECT author_class, author_role FROM mentions")[0]
    assert tuple(row) == ("member", "community_manager")
    # A member is never linked by display name.
    save(store, mention("https://x.example/2", author=Account("x.example", "Julie Marchand")))
    row = store.query("SELECT author_class FROM mentions WHERE url LIKE '%/2'")[0]
    assert row[0] == "anonymous"


def test_replies_in_a_matching_thread_are_stored_as_context(store):
    w = wl()
    matcher = compile_query(w.query)
    root = Item(url="https://blog.example/post", title="Acme review", text="about acme")
    reply = Item(
        url="https://blog.example/post#comment-2",
        text="I agree",
        thread_url="https://blog.example/post",
        parent_url="https://blog.example/post",
    )
    stray = Item(
        url="https://blog.example/other#comment-9",
        text="unrelated",
        thread_url="https://blog.example/other",
    )
    picked = select_mentions(w, w.sources[0], [root, reply, stray], matcher, T0, lambda urls: set())
    assert [(m.url, m.matched) for m in picked] == [
        ("https://blog.example/post", ("acme",)),
        ("https://blog.example/post#comment-2", ()),
    ]
    save(store, picked[0])
    # Later, a new reply on the old, stored root joins it as context.
    later = Item(
        url="https://blog.example/post#comment-3",
        text="me too",
        thread_url="https://blog.example/post",
    )
    again = select_mentions(
        w, w.sources[0], [later], matcher, T0, lambda urls: store.stored_threads("acme", urls)
    )
    assert [m.url for m in again] == ["https://blog.example/post#comment-3"]


def test_community_space_by_prefix_or_override(store):
    w = wl(spaces=["https://forum.acme.example/"])
    matcher = compile_query(w.query)
    items = [
        Item(url="https://forum.acme.example/t/1", text="no brand here"),
        Item(url="https://elsewhere.example/1", text="no brand here either"),
    ]
    picked = select_mentions(w, w.sources[0], items, matcher, T0, lambda u: set())
    assert [(m.url, m.space) for m in picked] == [
        ("https://forum.acme.example/t/1", Space.COMMUNITY)
    ]
    forced = Source("c", "feed", "https://elsewhere.example/feed", space=Space.COMMUNITY)
    picked = select_mentions(w, forced, items[1:], matcher, T0, lambda u: set())
    assert picked[0].space is Space.COMMUNITY and picked[0].matched == ()


def test_undated_and_implausible_dates_become_fetch_time(store):
    w = wl()
    matcher = compile_query(w.query)
    old = Item(url="https://x.example/old", text="acme", published=datetime(1970, 1, 1, tzinfo=UTC))
    none = Item(url="https://x.example/none", text="acme")
    picked = select_mentions(w, w.sources[0], [old, none], matcher, T0, lambda u: set())
    assert all(m.undated and m.published == T0 for m in picked)


def test_email_is_never_stored_in_clear(store):
    from ereput.identifiers import email_identifier

    ident = email_identifier("Julie@Acme.example")
    assert ident == Identifier("email", ident.value) and "@" not in ident.value
    save(store, mention("https://x.example/1", author=Account("x.example", "J", (ident,))))
    dump = "\n".join(store.conn.iterdump())
    assert "julie@acme.example" not in dump.lower()


def test_languages_filter_keeps_listed_and_unknown_languages():
    w = Watchlist(
        name="acme",
        query=Query(terms=("acme",), languages=("fr",)),
        sources=(Source("a", "feed", "https://a.example/feed"),),
    )
    matcher = compile_query(w.query)
    items = [
        Item(url="https://x.example/fr", text="acme", language="fr"),
        Item(url="https://x.example/de", text="acme", language="de"),
        Item(url="https://x.example/unknown", text="acme"),
    ]
    picked = select_mentions(w, w.sources[0], items, matcher, T0, lambda u: set())
    assert [m.url for m in picked] == ["https://x.example/fr", "https://x.example/unknown"]


def test_sources_remember_validators_cursor_and_retry_after(store):
    from ereput.fetchers.base import SourceState

    assert store.source_states("acme") == {}  # a first scan holds nothing per source
    state = SourceState(etag='"v1"', last_modified="Tue, 17 Nov 2026 09:30:00 GMT")
    state.cursor = {"latest": 42, "name": "Sébastien"}
    with store.transaction():
        store.record_success("acme", "a", state, T0)
        store.record_failure("acme", "b", "HTTP 429", T0, "2026-11-17T10:00:00Z")
    saved = store.source_states("acme")
    assert saved["a"].state() == state
    assert saved["a"].retry_after is None
    assert saved["b"].state() == SourceState()
    assert saved["b"].retry_after == "2026-11-17T10:00:00Z"
    assert store.source_states("other") == {}
