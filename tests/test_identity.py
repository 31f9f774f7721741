"""Who is speaking: persons from shared identifiers, manual link/unlink kept across scans,
placeholders that merge nobody, forget and export, reach and flags (SPEC §2, §7)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from conftest import CORPUS
from ereput.cli import app
from ereput.dates import now
from ereput.fetchers.blog_parse import parse_blog_page
from ereput.identifiers import avatar_identifier, email_identifier, make_account, url_identifier
from ereput.models import (
    Account,
    Community,
    Item,
    Member,
    Query,
    Rules,
    Source,
    Space,
    Watchlist,
)
from ereput.services import lookup
from ereput.services.people import activity, person_flags, suggest_links, window
from ereput.store import Mention, Store

NOW = now().replace(microsecond=0)
EMPTY_GRAVATAR = "https://secure.gravatar.com/avatar/d41d8cd98f00b204e9800998ecf8427e?s=48"


def wl(members=()) -> Watchlist:
    return Watchlist(
        name="acme",
        query=Query(terms=("acme",)),
        sources=(Source("a", "feed", "https://a.example/feed"),),
        community=Community(spaces=("https://forum.acme.example/",), members=tuple(members)),
        rules=Rules(window_days=30, troll_min_mentions=3, troll_max_sentiment=-0.3),
    )


def mention(url, author, *, days_ago=1, space=Space.OPEN, text="acme", parent=None) -> Mention:
    at = NOW - timedelta(days=days_ago)
    item = Item(url=url, title="", text=text, published=at, author=author, parent_url=parent)
    return Mention("acme", "a", "feed", item, url, space, ("acme",), at, False, NOW)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "s.db")
    s.sync_sources(wl())
    yield s
    s.close()


def save(store, *mentions):
    with store.transaction():
        return store.save_mentions(mentions)


def person(store, url) -> str:
    return store.query("SELECT person_id FROM mentions WHERE url = ?", [url])[0][0]


def klass(store, url) -> str:
    return store.query("SELECT author_class FROM mentions WHERE url = ?", [url])[0][0]


def acct(site, name, *idents) -> Account:
    return Account(site, name, tuple(idents))


U1 = url_identifier("https://lea.example/")
U2 = url_identifier("https://forum.other.example/u/lea")
AV = avatar_identifier("https://www.gravatar.com/avatar/" + "ab" * 16)


# --- merges that must happen -------------------------------------------------------------


def test_corpus_blog_author_replies_are_one_person_commenters_stay_apart(store):
    page = parse_blog_page(
        (CORPUS / "blogs/wordpress/anchor.ch.lanka.html").read_bytes(), "https://anchor.ch/lanka/"
    )
    save(store, *(mention(c.url, c.author) for c in page.comments))
    rows = store.query("SELECT author_name, person_id, author_class FROM mentions")
    by_name: dict[str, set[str]] = {}
    for name, pid, cls in rows:
        by_name.setdefault(name, set()).add(pid)
        assert cls == "identified"  # every commenter there shows a website or a Gravatar
    assert len(by_name["Peter Addor"]) == 1  # the author answers every comment: one person
    persons = {pid for pids in by_name.values() for pid in pids}
    assert len(persons) == len(by_name)  # and nobody else is merged with anybody


def test_an_account_bridging_two_persons_makes_them_one_and_keeps_the_oldest_id(store):
    save(store, mention("https://x.example/1", acct("x.example", "Léa", U1)))
    first = person(store, "https://x.example/1")
    save(store, mention("https://y.example/2", acct("y.example", "lea_b", AV)))
    assert person(store, "https://y.example/2") != first
    # A third site shows both her website and her Gravatar.
    save(store, mention("https://z.example/3", acct("z.example", "Léa B.", U1, AV)))
    urls = ["https://x.example/1", "https://y.example/2", "https://z.example/3"]
    assert {person(store, u) for u in urls} == {first}
    # Stable across re-scans.
    save(store, mention("https://y.example/2", acct("y.example", "lea_b", AV)))
    assert person(store, "https://y.example/2") == first


def test_an_account_showing_a_new_identifier_later_joins_that_person(store):
    save(store, mention("https://x.example/1", acct("x.example", "Léa", U1)))
    save(store, mention("https://y.example/2", acct("y.example", "Léa", U2)))
    assert person(store, "https://x.example/1") != person(store, "https://y.example/2")
    # The same account (keyed by its website) now also shows the forum profile.
    save(store, mention("https://x.example/3", acct("x.example", "Léa", U1, U2)))
    assert person(store, "https://x.example/1") == person(store, "https://y.example/2")


def test_declared_member_identifiers_make_accounts_members(store):
    save(store, mention("https://forum.acme.example/t/1", acct("forum.acme.example", "jm", U2)))
    store.sync_members(wl([Member("Julie Marchand", "community_manager", (U2,))]))
    assert klass(store, "https://forum.acme.example/t/1") == "member"
    save(store, mention("https://x.example/9", acct("x.example", "J. Marchand", U2, U1)))
    assert klass(store, "https://x.example/9") == "member"
    record = lookup.person_record(store, person(store, "https://x.example/9"), wl())
    assert record["name"] == "Julie Marchand" and record["role"] == "community_manager"


# --- merges that must not happen ---------------------------------------------------------


def test_same_display_name_on_two_platforms_is_two_anonymous_persons(store):
    save(
        store,
        mention("https://x.example/1", acct("x.example", "Jean Dupont")),
        mention("https://y.example/2", acct("y.example", "Jean Dupont")),
    )
    assert person(store, "https://x.example/1") != person(store, "https://y.example/2")
    assert klass(store, "https://x.example/1") == klass(store, "https://y.example/2") == "anonymous"


def test_the_empty_mail_gravatar_and_placeholder_websites_merge_nobody(store):
    a = make_account("x.example", "Alice", avatar=EMPTY_GRAVATAR, url="http://example.com/")
    b = make_account("y.example", "Bruno", avatar=EMPTY_GRAVATAR, url="http://example.com/")
    assert a is not None and b is not None and a.identifiers == b.identifiers == ()
    save(store, mention("https://x.example/1", a), mention("https://y.example/2", b))
    assert person(store, "https://x.example/1") != person(store, "https://y.example/2")
    assert klass(store, "https://x.example/1") == "anonymous"


def test_placeholder_names_on_one_site_are_each_their_own_author(store):
    save(
        store,
        mention("https://x.example/1", acct("x.example", "Invité")),
        mention("https://x.example/2", acct("x.example", "[deleted]")),
        mention("https://x.example/3", acct("x.example", "[deleted]")),
    )
    assert len({person(store, f"https://x.example/{n}") for n in (1, 2, 3)}) == 3


# --- manual decisions ---------------------------------------------------------------------


def test_link_and_unlink_survive_a_rescan_and_win_over_identifiers(store):
    one = mention("https://x.example/1", acct("x.example", "Léa", U1))
    two = mention("https://y.example/2", acct("y.example", "Léa B.", U2))
    save(store, one, two)
    kept, were_two = lookup.link(store, U1.value, U2.value)
    assert were_two
    assert person(store, "https://x.example/1") == person(store, "https://y.example/2") == kept
    save(store, one, two)  # a re-scan
    assert person(store, "https://x.example/1") == person(store, "https://y.example/2") == kept

    # Unlink: a split, kept when a re-scan brings an account bridging them again.
    pids = lookup.unlink(store, U1.value, U2.value)
    assert len(set(pids)) == 2 and kept in pids
    bridge = mention("https://z.example/3", acct("z.example", "Léa", U1, U2))
    save(store, one, two, bridge)
    assert person(store, "https://x.example/1") != person(store, "https://y.example/2")
    assert person(store, "https://x.example/1") == kept  # the larger group keeps the id

    # A manual link again wins over the earlier unlink.
    assert lookup.link(store, U1.value, U2.value)[1]
    assert lookup.link(store, U1.value, U2.value) == (kept, False)  # already one
    assert person(store, "https://x.example/1") == person(store, "https://y.example/2")


def test_persons_linked_by_their_names_can_be_unlinked_by_the_same_names(store):
    save(
        store,
        mention("https://x.example/1", acct("x.example", "Léa Moreau", U1)),
        mention("https://y.example/2", acct("y.example", "Nicolas", U2)),
    )
    lookup.link(store, "Léa Moreau", "Nicolas")
    assert person(store, "https://x.example/1") == person(store, "https://y.example/2")
    lookup.unlink(store, "Léa Moreau", "Nicolas")
    assert person(store, "https://x.example/1") != person(store, "https://y.example/2")


def test_link_refuses_an_ambiguous_name(store):
    save(
        store,
        mention("https://x.example/1", acct("x.example", "Jean Dupont")),
        mention("https://y.example/2", acct("y.example", "Jean Dupont")),
        mention("https://z.example/3", acct("z.example", "Léa", U1)),
    )
    with pytest.raises(Exception, match="matches 2 persons"):
        lookup.link(store, "Jean Dupont", U1.value)


# --- personal data ---------------------------------------------------------------------------


def test_a_forgotten_person_is_erased_and_never_collected_again(store):
    email = email_identifier("lea@acme.example")
    theirs = [
        mention("https://x.example/1", acct("x.example", "Léa", U1), text="acme panne secrète"),
        mention("https://y.example/2", acct("y.example", "Léa", U1, email)),
    ]
    other = mention(
        "https://x.example/3", acct("x.example", "Bob", U2), parent="https://x.example/1"
    )
    save(store, *theirs, other)
    pid, erased = lookup.forget(store, U1.value)
    assert erased == 2
    assert store.query("SELECT count(*) FROM mentions WHERE person_id = ?", [pid])[0][0] == 0
    assert store.query("SELECT count(*) FROM accounts WHERE person_id = ?", [pid])[0][0] == 0
    assert not store.query("SELECT * FROM mentions_fts WHERE mentions_fts MATCH 'secrete'")
    assert store.query("SELECT author_name FROM mentions")[0][0] == "Bob"  # others stay
    # A re-scan brings the same items back: nothing of theirs is stored again, even
    # under a new account that shows one of their identifiers.
    save(store, *theirs, mention("https://w.example/4", acct("w.example", "L.", email)))
    assert [r[0] for r in store.query("SELECT author_name FROM mentions")] == ["Bob"]
    # Nothing readable about them is kept.
    dump = "\n".join(store.conn.iterdump())
    assert "lea.example" not in dump and "Léa" not in dump


def test_export_gives_everything_stored_and_mail_only_as_a_hash(store):
    email = email_identifier("lea@acme.example")
    save(store, mention("https://x.example/1", acct("x.example", "Léa", U1, email)))
    data = lookup.export(store, U1.value)
    assert data["mentions"][0]["url"] == "https://x.example/1"
    kinds = {i["kind"]: i["value"] for i in data["accounts"][0]["identifiers"]}
    assert kinds["email"] == email.value and "@" not in json.dumps(data["accounts"])


def test_retention_purges_old_mentions_and_the_authors_left_without_any(store):
    save(
        store,
        mention("https://x.example/old", acct("x.example", "Vieux", U1), days_ago=400),
        mention("https://x.example/new", acct("x.example", "Neuf", U2), days_ago=1),
    )
    with store.transaction():
        assert store.purge_older_than("acme", NOW - timedelta(days=365)) == 1
    assert lookup.find_persons(store, U1.value) == []
    assert lookup.find_persons(store, U2.value) == [person(store, "https://x.example/new")]


# --- reach and flags ---------------------------------------------------------------------------


def scored(store, url, sentiment):
    store.conn.execute("UPDATE mentions SET sentiment = ? WHERE url = ?", (sentiment, url))


def test_flags_follow_the_rules_with_their_reasons(store):
    troll = acct("x.example", "Grincheux", url_identifier("https://grr.example/"))
    fan = acct("y.example", "Fan", url_identifier("https://fan.example/"))
    anon_sour = acct("x.example", "Râleur")  # anonymous, negative, persistent: a troll too
    cm = acct("twitter.example", "Julie", U2)
    store.sync_members(wl([Member("Julie Marchand", "community_manager", (U2,))]))
    rows = [
        *(mention(f"https://x.example/t{n}", troll) for n in range(3)),
        mention("https://x.example/t-old", troll, days_ago=60),
        *(mention(f"https://y.example/f{n}", fan) for n in range(2)),
        *(mention(f"https://x.example/a{n}", anon_sour) for n in range(3)),
        mention("https://twitter.example/j1", cm),
    ]
    save(store, *rows)
    for n in range(3):
        scored(store, f"https://x.example/t{n}", -0.6)
        scored(store, f"https://x.example/a{n}", -0.5)
    scored(store, "https://y.example/f0", 0.4)
    pids = {
        name: person(store, url)
        for name, url in [
            ("troll", "https://x.example/t0"),
            ("fan", "https://y.example/f0"),
            ("anon", "https://x.example/a0"),
            ("cm", "https://twitter.example/j1"),
        ]
    }
    julie = Member("Julie Marchand", "community_manager", (U2,))
    flags = person_flags(store, wl([julie]), pids.values())
    assert [f["flag"] for f in flags[pids["troll"]]] == ["troll"]
    assert "3 mentions in 30 days" in flags[pids["troll"]][0]["why"]  # the old one is outside
    assert [f["flag"] for f in flags[pids["anon"]]] == ["troll"]
    assert [f["flag"] for f in flags[pids["fan"]]] == ["invite"]
    assert [f["flag"] for f in flags[pids["cm"]]] == ["ambassador"]


def test_reach_counts_sources_domains_and_replies_and_says_so(store):
    lea = acct("x.example", "Léa", U1)
    save(
        store,
        mention("https://x.example/1", lea),
        mention("https://y.example/2", acct("y.example", "Léa", U1)),
        mention("https://x.example/3", acct("x.example", "Bob", U2), parent="https://x.example/1"),
    )
    record = lookup.person_record(store, person(store, "https://x.example/1"), wl())
    # 2 mentions + 1 source + 2 × 2 domains + 0.5 × 1 reply
    assert record["reach"] == 7.5
    explained = "7.5: 2 mentions on 1 source and 2 domains, 1 reply in 30 days"
    assert record["reach_explained"] == explained


def test_window_figures_for_everyone_equal_those_read_person_by_person(store):
    """The report adds up everyone's window in one pass; `author` reads one person along its
    index: both must say the same, replies to older mentions and to oneself included."""
    lea, bob = acct("x.example", "Léa", U1), acct("y.example", "Bob", U2)
    anon = acct("x.example", "Passant")
    save(
        store,
        mention("https://x.example/old", lea, days_ago=45),  # outside the window
        mention("https://x.example/1", lea, text="acme great"),
        mention("https://z.example/2", acct("z.example", "Léa", U1), space=Space.COMMUNITY),
        mention("https://y.example/3", bob, parent="https://x.example/old"),  # old parent
        mention("https://y.example/4", bob, parent="https://x.example/1"),
        mention("https://x.example/5", lea, parent="https://x.example/1"),  # to herself
        mention("https://x.example/6", anon, parent="https://y.example/3"),
        mention("https://x.example/7", anon, parent="https://nowhere.example/gone"),
    )
    scored(store, "https://x.example/1", 0.5)
    scored(store, "https://y.example/4", -0.25)
    lo, hi = window(wl())
    everyone = activity(store, "acme", lo, hi)
    one_by_one = activity(store, "acme", lo, hi, sorted(everyone))
    assert everyone == one_by_one
    by_name = {a.person_id: a for a in everyone.values()}
    lea_act = by_name[person(store, "https://x.example/1")]
    assert (lea_act.mentions, lea_act.open, lea_act.community) == (3, 2, 1)
    assert (lea_act.sources, lea_act.domains, lea_act.replies) == (1, 2, 2)  # Bob twice
    assert by_name[person(store, "https://y.example/3")].replies == 1  # the passer-by


def test_suggestions_pair_similar_names_on_different_sites(store):
    save(
        store,
        mention("https://x.example/1", acct("x.example", "Martine Lefebvre", U1)),
        mention("https://y.example/2", acct("y.example", "martine lefebvre", U2)),
        mention("https://y.example/3", acct("y.example", "Quelqu'un d'autre", AV)),
    )
    pairs = suggest_links(store, wl())
    assert len(pairs) == 1 and "similar names" in pairs[0]["reason"]
    lookup.unlink(store, U1.value, U2.value)
    assert suggest_links(store, wl()) == []


# --- the command line -------------------------------------------------------------------------


def test_author_actions_from_the_command_line(tmp_path):
    db = tmp_path / "cli.db"
    (tmp_path / "w.toml").write_text(
        'name = "acme"\n[query]\nterms = ["acme"]\n'
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://a.example/feed"\n'
    )
    with Store.open(db) as s:
        save(
            s,
            mention("https://x.example/1", acct("x.example", "Léa", U1)),
            mention("https://y.example/2", acct("y.example", "Léa B.", U2)),
        )
    run = CliRunner().invoke
    base = ["--db", str(db), "-w", str(tmp_path / "w.toml")]
    result = run(app, [*base, "author", "link", U1.value, U2.value])
    assert result.exit_code == 0, result.output
    assert "linked" in result.stdout
    card = run(app, [*base, "author", "Léa"], env={"COLUMNS": "80"})
    assert "x.example" in card.stdout and "y.example" in card.stdout and "reach" in card.stdout
    exported = json.loads(run(app, [*base, "author", "export", U2.value]).stdout)
    assert len(exported["mentions"]) == 2
    refused = run(app, [*base, "author", "forget", U1.value])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    done = run(app, [*base, "author", "forget", U1.value, "--yes"])
    assert done.exit_code == 0 and "2 mention(s) erased" in done.stdout
    gone = run(app, [*base, "author", "Léa"])
    assert gone.exit_code != 0
    looked_up = run(app, [*base, "author", "--query", "link"])
    assert looked_up.exit_code != 0 and "no author matches 'link'" in looked_up.stderr


def test_authors_are_ranked_in_the_window_ending_when_asked(store):
    """`rank_authors(at=...)`: the window may end in the past (the store benchmark ranks
    its generated mentions, which end before today); by default it ends now."""
    save(
        store,
        mention("https://a.example/old", acct("a.example", "Old Writer"), days_ago=100),
        mention("https://a.example/new", acct("a.example", "New Writer"), days_ago=2),
    )

    def names(**kw):
        return [a["name"] for a in lookup.rank_authors(store, wl(), **kw)]

    assert names() == ["New Writer"]
    assert names(at=NOW - timedelta(days=90)) == ["Old Writer"]
