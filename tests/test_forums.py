"""Forum readers: the engines' parsers on the shared corpus (read in place) and on our own
fixtures, and the readers end to end against the local HTTP server (pagination, page cap,
incremental re-scans).

Every file of `forums/` is read here: the HTML topics through the `forum` reader (Stack
Exchange as `engine = "stackexchange"`), the Discourse JSON through the `discourse`
reader, the ActivityPub objects and actors through the `activitypub` reader
(tests/test_social.py).
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, manifest
from ereput.cli import app
from ereput.errors import RobotsDisallowed
from ereput.fetchers import (
    activitypub,
    discourse,
    flarum,
    nodebb,
    phpbb,
    smf,
    stackexchange,
    vbulletin,
    xenforo,
)
from ereput.fetchers.base import SourceState
from ereput.fetchers.posts import iso_date
from ereput.models import Identifier, Source
from httpserver import Response
from readers import ToServer, read

FIXTURES = Path(__file__).parent / "fixtures" / "forums"
M = manifest()


def authors_in_order(items):
    names: list[str] = []
    for i in items:
        if i.author and i.author.name not in names:
            names.append(i.author.name)
    return names


def check_thread_shape(items):
    """SPEC §7: the first post is its own thread with no parent; replies point into it and
    carry no title of their own."""
    for i in items:
        if i.url == i.thread_url:
            assert i.parent_url is None
        else:
            assert i.parent_url and i.title == ""


# --- the corpus, in place -------------------------------------------------------------------


def test_corpus_phpbb_single_post_topic():
    path = "forums/phpbb/foren.myoos.de.html"
    exp = M[path]["expected"]
    page = phpbb.parse_topic(
        (CORPUS / path).read_bytes(), "https://foren.myoos.de/viewtopic.php?t=167"
    )
    assert page.title == exp["topic_title"]
    assert len(page.items) == exp["n_posts"]
    first = page.items[0]
    assert authors_in_order(page.items) == exp["post_authors"]
    assert first.url.endswith("#" + exp["first_post"]["id"])
    assert (
        Identifier("uid", f"{exp['first_post']['user_id']}@foren.myoos.de")
        in first.author.identifiers
    )
    # the footer says "Alle Zeiten sind UTC+02:00": the printed date is read in that zone
    local = first.published.astimezone(timezone(timedelta(hours=2)))
    assert local.strftime("%d.%m.%Y, %H:%M") == exp["first_post"]["date_text"]
    assert first.published == datetime(2009, 1, 21, 3, 42, tzinfo=UTC)
    assert "sid=" not in (first.author.profile_url or "")
    assert first.thread_url == first.url and first.parent_url is None
    assert first.title == exp["topic_title"]


def test_corpus_forumotion_skips_the_sponsored_pseudo_post():
    path = "forums/forumotion/wolfsrebellen-netz.forumieren.com.regeln.html"
    exp = M[path]["expected"]
    page = phpbb.parse_topic(
        (CORPUS / path).read_bytes(), "https://wolfsrebellen-netz.forumieren.com/t7-forums-regeln"
    )
    assert page.title == exp["topic_title"]
    assert len(page.items) == exp["n_posts"]
    assert authors_in_order(page.items) == exp["post_authors"]
    assert all(i.author.name not in exp["non_user_pseudo_posts"] for i in page.items)
    first = page.items[0]
    assert first.url.endswith("#p" + exp["first_post"]["anchor"].lstrip("#"))
    assert first.published.strftime("%d/%m/%y, %I:%M %p").lower() == exp["first_post"]["date_text"]
    check_thread_shape(page.items)
    assert len({i.url for i in page.items}) == exp["n_posts"]


def test_corpus_vbulletin_iso_8859_1_page_34():
    path = "forums/vbulletin/pocketpc.ch.auslieferung.html"
    exp = M[path]["expected"]
    page = vbulletin.parse_topic((CORPUS / path).read_bytes(), "https://www.pocketpc.ch/x.html")
    assert page.title == exp["thread_title"]
    assert not page.first_page and page.next_url and page.next_url.endswith("-35.html")
    assert len(page.items) == exp["n_posts"]
    assert authors_in_order(page.items) == exp["post_authors"]
    first = page.items[0]
    assert f"post{exp['first_post']['id'].split('_')[1]}" in first.url
    assert first.author.profile_url == exp["first_post"]["profile_url"]
    assert first.published.strftime("%d.%m.%Y, %H:%M") == exp["first_post"]["date_text"]
    # page 34: the thread's first post is not here; the thread is the topic's first page
    assert all(
        i.thread_url and i.thread_url.endswith("vorbereitungsupdate.html") for i in page.items
    )
    assert all(i.title == "" for i in page.items)
    by_id = {i.url.split("-post")[1].split(".")[0]: i for i in page.items}
    for quote in exp["quote_replies"]:
        item = by_id[quote["post"].removeprefix("post_")]
        assert item.author.name == quote["author"]
        quoted = [i for i in page.items if i.url == item.parent_url]
        assert not quoted or quoted[0].author.name == quote["quotes"]
        assert item.parent_url != item.thread_url
    assert "Zitat von" not in first.text and "Das war noch nicht das Update" in first.text


def test_corpus_xenforo_thread():
    path = "forums/xenforo/villagersandheroes.com.forums.patchnotes.html"
    exp = M[path]["expected"]
    page = xenforo.parse_topic(
        (CORPUS / path).read_bytes(), "https://villagersandheroes.com/forums/"
    )
    assert len(page.items) == exp["n_posts"]
    assert authors_in_order(page.items) == exp["post_authors"]
    first = page.items[0]
    assert first.author.name == exp["thread_starter"] == exp["first_post"]["author"]
    assert first.url.endswith(exp["first_post"]["id"].removeprefix("js-"))
    assert first.author.profile_url.endswith(exp["first_post"]["profile_url"].rstrip("/") + "/")
    assert Identifier("uid", f"{exp['first_post']['user_id']}@villagersandheroes.com") in (
        first.author.identifiers
    )
    assert first.published.isoformat() == "2020-09-18T08:56:40-07:00"
    check_thread_shape(page.items)
    assert page.items[1].thread_url == first.url


def test_corpus_discourse_latest_posts():
    path = "forums/discourse/api_posts_latest.json"
    exp = M[path]["expected"]
    parsed = discourse.parse_posts((CORPUS / path).read_bytes(), "http://localhost:3000/posts.json")
    assert len(parsed.items) == exp["n_posts"]
    for item, want in zip(parsed.items, exp["posts"], strict=True):
        assert Identifier("handle", f"{want['username']}@localhost") in item.author.identifiers
        assert item.entry_id.startswith(f"discourse-post-{want['id']}@")
        if "post_number" in want:
            assert item.url.endswith(f"/{want['post_number']}")
        if "topic_title" in want:
            assert (item.title or "") in ("", want["topic_title"])
        if "created_at" in want:
            assert (
                item.published.isoformat().replace("+00:00", "Z").replace("000Z", "Z")
                == (want["created_at"])
            )
    reply = parsed.items[0]
    assert reply.title == "" and reply.parent_url == reply.thread_url
    assert reply.author.name == "johndoe"  # name null: the username is what the page shows


@pytest.mark.parametrize(
    "path",
    [p for p, row in M.items() if p.startswith("forums/") and Path(p).name.startswith("ap_")],
)
def test_corpus_forum_activitypub_objects(path):
    exp = M[path]["expected"]
    body = (CORPUS / path).read_bytes()
    if exp["type"] == "Person":
        actor = activitypub.parse_actor(body)
        assert actor.account.name == exp["display_name"]
        assert actor.username == exp["username"]
        assert actor.account.profile_url == exp["profile_url"]
        assert actor.avatar == exp["avatar"]
        assert Identifier("acct", f"{exp['username']}@{actor.account.site}") in (
            actor.account.identifiers
        )
    else:
        (item,) = activitypub.parse_object(body)
        assert item.url == exp["id"] and item.parent_url == exp["inReplyTo"]
        assert item.title == exp["title"]
        assert item.author.profile_url == exp["attributedTo"]
        assert item.published.isoformat().startswith(exp["published"].rstrip("Z")[:19])


# --- our own fixtures, one per engine --------------------------------------------------------


def test_phpbb_two_page_topic_guest_and_quote_parent():
    p1 = phpbb.parse_topic(
        (FIXTURES / "phpbb_topic_p1.html").read_bytes(),
        "https://forum.example.org/viewtopic.php?f=2&t=10",
    )
    assert (
        p1.first_page and p1.next_url == "https://forum.example.org/viewtopic.php?f=2&t=10&start=2"
    )
    first, guest = p1.items
    assert first.title == "Acme Cloud outage" and guest.title == ""
    assert guest.author.name == "Guest" and guest.author.identifiers == ()
    assert guest.parent_url == first.url  # the quote links to post 101
    assert "Same here" in guest.text and "down again" not in guest.text
    p2 = phpbb.parse_topic(
        (FIXTURES / "phpbb_topic_p2.html").read_bytes(),
        "https://forum.example.org/viewtopic.php?f=2&t=10&start=2",
        None,
        first.url,
    )
    assert not p2.first_page and p2.next_url is None
    (bob,) = p2.items
    assert bob.thread_url == first.url and bob.parent_url == first.url and bob.title == ""


def test_xenforo_guest_and_quote():
    page = xenforo.parse_topic(
        (FIXTURES / "xenforo_thread.html").read_bytes(),
        "https://xf.example.org/threads/acme-cloud-pricing.55/",
    )
    first, guest = page.items
    assert page.title == "Acme Cloud pricing" and first.title == "Acme Cloud pricing"
    assert first.author.identifiers[1] == Identifier("uid", "12@xf.example.org")
    assert guest.author.name == "Visitor" and guest.author.identifiers == ()
    assert guest.parent_url == first.url and guest.text == "Not for small shops."


def test_vbulletin_fixture_latin1_guest_and_quote():
    page = vbulletin.parse_topic(
        (FIXTURES / "vbulletin_thread.html").read_bytes(),
        "https://vb.example.org/showthread.php?t=77",
    )
    first, guest = page.items
    assert page.first_page and first.title == "Acme Cloud Störung"
    assert first.author.name == "Jürgen" and "Ärgerlich" in first.text
    assert Identifier("uid", "31@vb.example.org") in first.author.identifiers
    assert first.published.isoformat() == "2026-11-17T09:15:00+00:00"
    assert guest.author.name == "Gast" and guest.author.identifiers == ()
    assert guest.parent_url == first.url and guest.text == "Bei mir auch."
    assert "s=" not in first.url


def test_smf_fixture():
    page = smf.parse_topic(
        (FIXTURES / "smf_topic.html").read_bytes(), "https://smf.example.org/index.php?topic=42.0"
    )
    first, anon = page.items
    assert first.title == "Acme Cloud backups" and first.author.name == "Dana"
    assert Identifier("uid", "7@smf.example.org") in first.author.identifiers
    assert first.published.isoformat() == "2026-11-14T18:20:00+00:00"
    assert anon.author.name == "Anonymous" and anon.author.identifiers == ()
    assert anon.parent_url == first.url and anon.text == "Nightly, kept 7 days."


def test_flarum_fixture_deleted_user_and_mention():
    page = flarum.parse_topic(
        (FIXTURES / "flarum_posts.json").read_bytes(),
        "https://flarum.example.org/api/posts?filter%5Bdiscussion%5D=5",
    )
    first, deleted, reply = page.items
    assert first.url == "https://flarum.example.org/d/5-acme-cloud-login-loop/1"
    assert first.title == "Acme Cloud login loop" and first.author.name == "Erin K."
    assert Identifier("handle", "erin@flarum.example.org") in first.author.identifiers
    assert deleted.author.name == "[deleted]" and deleted.author.identifiers == ()
    assert reply.parent_url == deleted.url and reply.text == "That worked, thanks."


def test_nodebb_fixture_guest_and_to_pid():
    page = nodebb.parse_topic(
        (FIXTURES / "nodebb_topic.json").read_bytes(), "https://bb.example.org/api/topic/9"
    )
    first, guest, reply = page.items
    assert first.url == "https://bb.example.org/post/90" and first.thread_url == first.url
    assert first.author.profile_url == "https://bb.example.org/user/frank"
    assert guest.author.identifiers == () and guest.parent_url == first.url
    assert reply.parent_url == guest.url


# --- dates printed without a zone (SPEC §7) ---------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "fixture", "route", "first_local", "first_utc"),
    [
        (
            "vbulletin",
            "vbulletin_thread.html",
            "/showthread.php?t=77",
            "17.11.2026 09:15",
            "2026-11-17T08:15:00+00:00",
        ),
        (
            "smf",
            "smf_topic.html",
            "/index.php?topic=42.0",
            "14.11.2026 18:20",
            "2026-11-14T17:20:00+00:00",
        ),
    ],
)
def test_forum_dates_without_zone_read_in_the_watchlists_zone(
    http_server, engine, fixture, route, first_local, first_utc
):
    http_server.routes[route.split("?")[0]] = (FIXTURES / fixture).read_bytes()
    source = Source(
        "t", "forum", http_server.url(route), options={"engine": engine}, timezone="Europe/Paris"
    )
    first = read(source).items[0]
    assert first.published.isoformat() == first_utc
    paris = first.published.astimezone(ZoneInfo("Europe/Paris"))
    assert paris.strftime("%d.%m.%Y %H:%M") == first_local
    # the same page under a UTC watchlist: the printed time is UTC
    utc_source = Source("t", "forum", http_server.url(route), options={"engine": engine})
    assert read(utc_source).items[0].published.strftime("%d.%m.%Y %H:%M") == first_local


@pytest.mark.parametrize(
    ("footer", "offset"),
    [
        ('<li class="rightside">All times are <span title="UTC">UTC</span></li>', 0),
        ('<li>Alle Zeiten sind <span title="Europa/Berlin">UTC+02:00</span></li>', 120),
        ('<div id="footer_time">Alle Zeitangaben in WEZ +1. Es ist jetzt 14:20 Uhr.</div>', 60),
        ("<p>All times are GMT -5. The time now is 09:12 AM.</p>", -300),
        ("<p>Toutes les heures sont au format UTC + 1 heure</p>", 60),
    ],
)
def test_forum_footer_zone_wins_over_the_watchlists(footer, offset):
    page = (
        '<html><body><div class="post" id="p5"><p class="author">by '
        '<a class="username" href="memberlist.php?mode=viewprofile&u=3">ann</a> '
        '&raquo; 21.01.2009, 05:42</p><div class="content">hi</div></div>'
        f"<ul>{footer}</ul></body></html>"
    ).encode()
    url = "https://f.example/viewtopic.php?t=1"
    (item,) = phpbb.parse_topic(page, url, tz="America/New_York").items
    local = datetime(2009, 1, 21, 5, 42, tzinfo=timezone(timedelta(minutes=offset)))
    assert item.published == local.astimezone(UTC)
    # no footer: the watchlist's zone
    bare = page.replace(footer.encode(), b"")
    (item,) = phpbb.parse_topic(bare, url, tz="America/New_York").items
    assert item.published == datetime(2009, 1, 21, 10, 42, tzinfo=UTC)


# --- readers end to end ----------------------------------------------------------------------


@pytest.fixture
def phpbb_site(http_server):
    pages = {
        "/viewforum.php": (FIXTURES / "phpbb_viewforum.html").read_bytes(),
        "/viewtopic.php": None,
    }
    topic = {
        "0": (FIXTURES / "phpbb_topic_p1.html").read_bytes(),
        "2": (FIXTURES / "phpbb_topic_p2.html").read_bytes(),
    }

    def viewtopic(request):
        start = request.path.split("start=")[1].split("&")[0] if "start=" in request.path else "0"
        return Response(topic[start], headers={"Content-Type": "text/html; charset=utf-8"})

    http_server.routes["/viewforum.php"] = lambda r: Response(pages["/viewforum.php"])
    http_server.routes["/viewtopic.php"] = viewtopic
    http_server.pages, http_server.topic = pages, topic
    return http_server


def topic_requests(server, since=0):
    return [r.path for r in server.requests()[since:] if r.path.startswith("/viewtopic.php")]


def test_phpbb_reader_walks_pages_then_rescans_incrementally(phpbb_site):
    source = Source(
        "board", "forum", phpbb_site.url("/viewforum.php?f=2"), options={"engine": "phpbb"}
    )
    first = read(source)
    assert [i.author.name for i in first.items] == ["alice", "Guest", "bob"]
    assert len(topic_requests(phpbb_site)) == 2
    assert all(i.thread_url == first.items[0].url for i in first.items)
    state = SourceState(**json.loads(json.dumps(first.state.__dict__)))  # as stored

    # unchanged forum: the forum page answers 304, no topic page is asked for, nothing new
    n = len(phpbb_site.requests())
    again = read(source, state)
    assert again.items == [] and topic_requests(phpbb_site, n) == []

    # a new reply on page 2: only page 2 is read again, only the new post comes back
    phpbb_site.pages["/viewforum.php"] = (FIXTURES / "phpbb_viewforum_new_reply.html").read_bytes()
    phpbb_site.topic["2"] = (FIXTURES / "phpbb_topic_p2_new_reply.html").read_bytes()
    n = len(phpbb_site.requests())
    third = read(source, SourceState(**json.loads(json.dumps(again.state.__dict__))))
    assert [i.text for i in third.items] == ["Down again today. Acme, please fix this."]
    assert third.items[0].thread_url == first.items[0].url
    assert topic_requests(phpbb_site, n) == ["/viewtopic.php?f=2&t=10&start=2"]


def test_phpbb_reader_page_cap_resumes_next_scan(phpbb_site):
    source = Source(
        "board",
        "forum",
        phpbb_site.url("/viewforum.php?f=2"),
        options={"engine": "phpbb", "max_pages": 2},
    )
    first = read(source)  # the forum page and page 1 of the topic
    assert [i.author.name for i in first.items] == ["alice", "Guest"]
    second = read(source, first.state)
    assert [i.author.name for i in second.items] == ["bob"]
    assert second.items[0].thread_url == first.items[0].url


def test_forum_source_may_be_one_topic(http_server):
    http_server.routes["/threads/acme-cloud-pricing.55/"] = (
        FIXTURES / "xenforo_thread.html"
    ).read_bytes()
    source = Source(
        "t",
        "forum",
        http_server.url("/threads/acme-cloud-pricing.55/"),
        options={"engine": "xenforo"},
    )
    first = read(source)
    assert len(first.items) == 2 and first.state.cursor["mode"] == "topic"
    n = len(http_server.requests())
    again = read(source, first.state)  # the last page read, asked conditionally: a 304
    assert again.items == []
    assert [
        r.headers.get("if-none-match") is not None
        for r in http_server.requests()[n:]
        if r.path != "/robots.txt"
    ] == [True]


def test_discourse_reader_latest_topic_and_post_ids(http_server):
    http_server.routes["/latest.json"] = (FIXTURES / "discourse_latest.json").read_bytes()
    http_server.routes["/t/7.json"] = (FIXTURES / "discourse_topic.json").read_bytes()
    http_server.routes["/t/7/posts.json"] = (FIXTURES / "discourse_posts_702.json").read_bytes()
    source = Source("d", "discourse", http_server.url("/"))
    result = read(source)
    julie, deleted, gina = result.items
    base = http_server.url("/t/acme-cloud-status/7/")
    assert julie.url == base + "1" and julie.title == "Acme Cloud status page"
    assert julie.author.name == "Julie Marchand"
    assert {i.kind for i in julie.author.identifiers} >= {"url", "uid", "handle"}
    assert deleted.author.identifiers == () and deleted.parent_url == julie.url
    assert gina.parent_url == deleted.url and gina.title == ""
    assert http_server.requests("/t/7/posts.json?post_ids%5B%5D=702")
    n = len(http_server.requests())
    again = read(source, result.state)
    assert again.items == []
    assert not [r for r in http_server.requests()[n:] if r.path.startswith("/t/")]


def test_discourse_topic_robots_txt_forbids_is_skipped(http_server):
    """A second topic listed, which robots.txt forbids: never asked for, the first is read,
    and the source does not fail; with every listed topic forbidden, it fails and says why."""
    latest = json.loads((FIXTURES / "discourse_latest.json").read_bytes())
    hidden = dict(latest["topic_list"]["topics"][0], id=8, slug="staff-only")
    latest["topic_list"]["topics"].append(hidden)
    http_server.routes["/latest.json"] = json.dumps(latest).encode()
    http_server.routes["/t/7.json"] = (FIXTURES / "discourse_topic.json").read_bytes()
    http_server.routes["/t/7/posts.json"] = (FIXTURES / "discourse_posts_702.json").read_bytes()
    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /t/8\n"
    source = Source("d", "discourse", http_server.url("/"))
    assert len(read(source).items) == 3
    assert not [r for r in http_server.requests() if r.path.startswith("/t/8")]

    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /t/\n"
    with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt: .*/t/7\.json"):
        read(source)


def test_flarum_and_nodebb_readers(http_server):
    http_server.routes["/api/discussions"] = (FIXTURES / "flarum_discussions.json").read_bytes()
    http_server.routes["/api/posts"] = (FIXTURES / "flarum_posts.json").read_bytes()
    flarum_items = read(
        Source("f", "forum", http_server.url("/"), options={"engine": "flarum"})
    ).items
    assert len(flarum_items) == 3
    http_server.routes["/api/recent"] = (FIXTURES / "nodebb_recent.json").read_bytes()
    http_server.routes["/api/topic/9"] = (FIXTURES / "nodebb_topic.json").read_bytes()
    nodebb_items = read(
        Source("n", "forum", http_server.url("/"), options={"engine": "nodebb"})
    ).items
    assert [i.url.rsplit("/", 1)[1] for i in nodebb_items] == ["90", "91", "92"]


def test_custom_forum_configured_only_in_toml(http_server, tmp_path):
    http_server.routes["/boards.php"] = (FIXTURES / "custom_index.html").read_bytes()
    http_server.routes["/read.php"] = (FIXTURES / "custom_thread.html").read_bytes()
    wl = tmp_path / "acme.toml"
    wl.write_text(
        textwrap.dedent(f"""\
        name = "acme"
        timezone = "Europe/Paris"
        [query]
        terms = ['"Acme Cloud"']

        [[sources]]
        name = "old-board"
        kind = "forum"
        url = "{http_server.url("/boards.php")}"
        engine = "custom"

        [sources.selectors]
        thread = "a.thread-link"
        post = "div.msg"
        author = ".who"
        author_url = ".who a"
        date = ".when"
        body = ".words"
        """),
        encoding="utf-8",
    )
    db = tmp_path / "e.db"
    run = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["new"] == 2
    out = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "mentions", "--json"])
    mentions = sorted(json.loads(out.stdout), key=lambda m: m["url"])
    hank, anon = mentions
    assert hank["url"].endswith("/read.php?id=31#post-311") and hank["author"]["name"] == "Hank"
    assert hank["author"]["class"] == "identified" and hank["parent_url"] is None
    assert hank["published"] == "2026-11-11T07:30:00Z"
    assert anon["author"]["class"] == "anonymous" and anon["parent_url"] == hank["url"]
    assert anon["text"] == "Mine too." and anon["title"] == ""
    # "11/11/2026 08:45" on the page, read in the watchlist's zone (Europe/Paris)
    assert anon["published"] == "2026-11-11T07:45:00Z"
    again = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert json.loads(again.stdout)["new"] == 0 and json.loads(again.stdout)["updated"] == 0


@pytest.mark.parametrize(
    ("path", "engine", "route"),
    [
        ("forums/phpbb/foren.myoos.de.html", "phpbb", "/viewtopic.php?t=167"),
        (
            "forums/forumotion/wolfsrebellen-netz.forumieren.com.regeln.html",
            "phpbb",
            "/t7-forums-regeln",
        ),
        (
            "forums/xenforo/villagersandheroes.com.forums.patchnotes.html",
            "xenforo",
            "/threads/patch-notes.1234/",
        ),
    ],
)
def test_corpus_topic_pages_read_through_the_forum_reader(http_server, path, engine, route):
    """The corpus pages served on 127.0.0.1 as one-topic sources: the reader gives the
    MANIFEST's posts and authors, and asks the page again only conditionally."""
    exp = M[path]["expected"]
    http_server.routes[route.split("?")[0]] = (CORPUS / path).read_bytes()
    source = Source("t", "forum", http_server.url(route), options={"engine": engine})
    first = read(source)
    assert len(first.items) == exp["n_posts"]
    assert authors_in_order(first.items) == exp["post_authors"]
    again = read(source, first.state)
    assert again.items == []


POCKETPC = "https://www.pocketpc.ch/windows-phone-7-allgemein/122760-microsoft-beginnt-auslieferung-vorbereitungsupdate"


@pytest.fixture
def pocketpc(http_server):
    """The corpus's vBulletin page 34 served at its own address (the transport sends every
    host to 127.0.0.1); its next page, 35, is our fixture."""
    path = "/windows-phone-7-allgemein/122760-microsoft-beginnt-auslieferung-vorbereitungsupdate"
    corpus = CORPUS / "forums/vbulletin/pocketpc.ch.auslieferung.html"
    http_server.routes[f"{path}-34.html"] = corpus.read_bytes()
    http_server.routes[f"{path}-35.html"] = (
        FIXTURES / "vbulletin_pocketpc_page35.html"
    ).read_bytes()
    http_server.transport = ToServer(http_server)
    return http_server


def test_corpus_vbulletin_topic_follows_its_next_page(pocketpc):
    exp = M["forums/vbulletin/pocketpc.ch.auslieferung.html"]["expected"]
    source = Source(
        "pocketpc",
        "forum",
        f"{POCKETPC}-34.html",
        options={"engine": "vbulletin"},
        timezone="Europe/Zurich",
    )
    result = read(source, transport=pocketpc.transport)
    page34, page35 = result.items[: exp["n_posts"]], result.items[exp["n_posts"] :]
    assert authors_in_order(page34) == exp["post_authors"]
    assert [i.author.name for i in page35] == ["Predator", "Gast"]
    assert all(i.thread_url == f"{POCKETPC}.html" and i.title == "" for i in result.items)
    # page 34 prints no zone: the watchlist's (Zurich, UTC+1 in March)
    assert page34[0].published == datetime(2011, 3, 3, 13, 17, tzinfo=UTC)
    # page 35 says "Alle Zeitangaben in WEZ +1"
    assert page35[0].published == datetime(2011, 3, 3, 18, 40, tzinfo=UTC)
    assert page35[0].author.profile_url == exp["first_post"]["profile_url"]
    assert page35[1].author.identifiers == ()
    asked = [r.path for r in pocketpc.requests() if r.path != "/robots.txt"]
    assert [p.rsplit("-", 1)[1] for p in asked] == ["34.html", "35.html"]
    # unchanged: only the last page read is asked again, conditionally (a 304)
    n = len(pocketpc.requests())
    again = read(source, result.state, transport=pocketpc.transport)
    assert again.items == []
    asked = [r for r in pocketpc.requests()[n:] if r.path != "/robots.txt"]
    assert [(r.path.rsplit("-", 1)[1], "if-none-match" in r.headers) for r in asked] == [
        ("35.html", True)
    ]


def test_corpus_vbulletin_page_cap_then_resume(pocketpc):
    source = Source(
        "pocketpc", "forum", f"{POCKETPC}-34.html", options={"engine": "vbulletin", "max_pages": 1}
    )
    first = read(source, transport=pocketpc.transport)
    assert len(first.items) == 20  # the cap: page 34 alone
    second = read(source, first.state, transport=pocketpc.transport)
    assert [i.author.name for i in second.items] == ["Predator", "Gast"]
    assert second.items[0].thread_url == first.items[0].thread_url


def test_corpus_discourse_latest_posts_through_the_reader(http_server):
    path = "forums/discourse/api_posts_latest.json"
    exp = M[path]["expected"]
    http_server.routes["/posts.json"] = (CORPUS / path).read_bytes()
    source = Source("d", "discourse", http_server.url("/posts.json"))
    result = read(source)
    assert len(result.items) == exp["n_posts"]
    for item, want in zip(result.items, exp["posts"], strict=True):
        assert item.entry_id.startswith(f"discourse-post-{want['id']}@")
        assert Identifier("handle", f"{want['username']}@127.0.0.1") in item.author.identifiers
        if "post_number" in want:
            assert item.url.endswith(f"/{want['post_number']}")
    reply = result.items[0]
    assert reply.parent_url == reply.thread_url and reply.title == ""
    assert reply.published == datetime(2020, 1, 25, 2, 10, 7, 971000, tzinfo=UTC)
    n = len(http_server.requests())
    again = read(source, result.state)
    assert again.items == [] and again.not_modified
    asked = [r for r in http_server.requests()[n:] if r.path != "/robots.txt"]
    assert [r.headers.get("if-none-match") is not None for r in asked] == [True]


# --- Stack Exchange (engine = "stackexchange") ------------------------------------------------

SE_PATH = "forums/stackexchange/german.stackexchange.com.ausgeraubt.html"
SE_QUESTION = (
    "/questions/10376/when-to-use-wurde-versus-war-eg-ich-wurde-ausgeraubt-vs-ich-war-ausgerau"
)


def check_stackexchange_thread(items):
    exp = M[SE_PATH]["expected"]
    question = items[0]
    assert question.url == "https://german.stackexchange.com" + SE_QUESTION
    assert question.thread_url == question.url and question.parent_url is None
    assert question.title.startswith('When to use "wurde" versus "war"')
    assert question.author.name == exp["question_author"]["name"]
    assert question.author.profile_url == (
        "https://german.stackexchange.com" + exp["question_author"]["url"]
    )
    assert Identifier("uid", "5105@german.stackexchange.com") in question.author.identifiers
    assert question.published == iso_date(exp["question_author"]["date"])
    answers = [i for i in items if "/a/" in i.url]
    comments = [i for i in items if "/posts/comments/" in i.url]
    assert len(answers) == exp["n_answers"] and len(comments) == exp["n_comments"]
    assert [a.author.name for a in answers] == exp["answer_authors"]
    assert all(a.parent_url == question.url and a.title == "" for a in answers)
    assert authors_in_order(comments) == exp["comment_authors"]
    parents = {question.url, *(a.url for a in answers)}
    assert all(c.parent_url in parents and c.thread_url == question.url for c in comments)
    # an editor is not an author
    assert not {i.author.name for i in items} & set(exp["editors_not_authors"])
    # "Earthliŋ": the percent-encoded profile URL, one account for answer and comments
    earthling = {i.author for i in items if i.author.name == "Earthliŋ"}
    assert len(earthling) == 1
    check_thread_shape(items)


def test_corpus_stackexchange_question_page():
    page = stackexchange.parse_topic(
        (CORPUS / SE_PATH).read_bytes(), "https://german.stackexchange.com" + SE_QUESTION
    )
    check_stackexchange_thread(page.items)


def test_corpus_stackexchange_through_a_tag_listing(http_server):
    """A tag's question list (our fixture) → the corpus question served on 127.0.0.1; a
    re-scan of the unchanged list reads no question again and returns nothing."""
    http_server.routes["/questions/tagged/passive"] = (
        FIXTURES / "stackexchange_questions.html"
    ).read_bytes()
    http_server.routes[SE_QUESTION] = (CORPUS / SE_PATH).read_bytes()
    source = Source(
        "se",
        "forum",
        http_server.url("/questions/tagged/passive"),
        options={"engine": "stackexchange"},
    )
    result = read(source)
    check_stackexchange_thread(result.items)
    n = len(http_server.requests())
    again = read(source, result.state)
    assert again.items == [] and again.not_modified
    assert not [r for r in http_server.requests()[n:] if r.path.startswith("/questions/10376")]


# --- forum pages → topics, and re-scans, for every engine --------------------------------------


@pytest.mark.parametrize(
    ("engine", "listing", "listing_route", "topic", "topic_route", "authors"),
    [
        (
            "xenforo",
            "xenforo_forum.html",
            "/forums/acme-products.3/",
            "xenforo_thread.html",
            "/threads/acme-cloud-pricing.55/",
            ["Carla", "Visitor"],
        ),
        (
            "vbulletin",
            "vbulletin_forum.html",
            "/forumdisplay.php?f=4",
            "vbulletin_thread.html",
            "/showthread.php",
            ["Jürgen", "Gast"],
        ),
        (
            "smf",
            "smf_board.html",
            "/index.php?board=2.0",
            "smf_topic.html",
            "/index.php?topic=42.0",
            ["Dana", "Anonymous"],
        ),
    ],
)
def test_forum_page_to_topics_then_unchanged_rescans(
    http_server, engine, listing, listing_route, topic, topic_route, authors
):
    """A forum page lists a topic; the reader reads it. Re-scans: the unchanged forum page
    answers 304 and no topic is asked for; a forum page changed elsewhere (another topic,
    a view count) still shows this topic's same last post: the topic is not read again."""
    pages = {"listing": (FIXTURES / listing).read_bytes()}
    http_server.routes[listing_route] = lambda r: Response(pages["listing"])
    http_server.routes[topic_route] = (FIXTURES / topic).read_bytes()
    http_server.routes["/forums/acme-cloud.4/"] = b"<html><body><p>No threads.</p></body></html>"
    transport = ToServer(http_server)
    source = Source("f", "forum", http_server.url(listing_route), options={"engine": engine})
    first = read(source, transport=transport)
    assert [i.author.name for i in first.items] == authors
    check_thread_shape(first.items)
    assert first.items[1].thread_url == first.items[0].url

    def topic_hits(since):
        return [
            r
            for r in http_server.requests()[since:]
            if r.path.split("?")[0] == topic_route.split("?")[0] and r.path != listing_route
        ]

    assert len(topic_hits(0)) == 1
    n = len(http_server.requests())
    again = read(
        source, SourceState(**json.loads(json.dumps(first.state.__dict__))), transport=transport
    )
    assert again.items == [] and again.not_modified and topic_hits(n) == []
    pages["listing"] = pages["listing"].replace(b"</body>", b"<!-- 41 views --></body>")
    n = len(http_server.requests())
    third = read(source, again.state, transport=transport)
    assert third.items == [] and topic_hits(n) == []


def _bump_flarum(discussions, posts):
    d = json.loads(discussions)
    d["data"][0]["attributes"].update(lastPostNumber=4, lastPostedAt="2026-11-13T09:00:00+00:00")
    p = json.loads(posts)
    p["data"].append(
        {
            "type": "posts",
            "id": "53",
            "attributes": {
                "number": 4,
                "createdAt": "2026-11-13T09:00:00+00:00",
                "contentType": "comment",
                "contentHtml": "<p>Back again this morning.</p>",
            },
            "relationships": {
                "user": {"data": {"type": "users", "id": "1"}},
                "discussion": {"data": {"type": "discussions", "id": "5"}},
            },
        }
    )
    return json.dumps(d).encode(), json.dumps(p).encode()


def _bump_nodebb(recent, topic):
    d = json.loads(recent)
    d["topics"][0].update(postcount=4, lastposttime=1763300000000)
    t = json.loads(topic)
    t["posts"].append(
        {
            "pid": 93,
            "uid": 4,
            "tid": 9,
            "content": "<p>Back again this morning.</p>",
            "timestamp": 1763300000000,
            "index": 3,
            "toPid": None,
            "user": {"uid": 4, "username": "frank", "userslug": "frank", "displayname": "Frank"},
        }
    )
    return json.dumps(d).encode(), json.dumps(t).encode()


@pytest.mark.parametrize(
    ("engine", "listing_route", "listing", "topic_route", "topic", "bump"),
    [
        (
            "flarum",
            "/api/discussions",
            "flarum_discussions.json",
            "/api/posts",
            "flarum_posts.json",
            _bump_flarum,
        ),
        (
            "nodebb",
            "/api/recent",
            "nodebb_recent.json",
            "/api/topic/9",
            "nodebb_topic.json",
            _bump_nodebb,
        ),
    ],
)
def test_api_forum_rescans(http_server, engine, listing_route, listing, topic_route, topic, bump):
    """Flarum and NodeBB: an unchanged forum reads no topic again and returns nothing; a
    new reply shows in the listing and only that reply comes back, in its thread."""
    pages = {
        "listing": (FIXTURES / listing).read_bytes(),
        "topic": (FIXTURES / topic).read_bytes(),
    }
    http_server.routes[listing_route] = lambda r: Response(pages["listing"])
    http_server.routes[topic_route] = lambda r: Response(pages["topic"])
    source = Source(engine, "forum", http_server.url("/"), options={"engine": engine})
    first = read(source)
    assert len(first.items) == 3

    def topic_hits(since):
        return [r for r in http_server.requests()[since:] if r.path.startswith(topic_route)]

    n = len(http_server.requests())
    again = read(source, first.state)
    assert again.items == [] and again.not_modified and topic_hits(n) == []
    pages["listing"], pages["topic"] = bump(pages["listing"], pages["topic"])
    n = len(http_server.requests())
    third = read(source, again.state)
    (reply,) = third.items
    assert reply.text == "Back again this morning." and reply.title == ""
    assert reply.thread_url == first.items[0].url and reply.parent_url == first.items[0].url
    assert len(topic_hits(n)) == 1


def test_discourse_search_and_category_sources(http_server):
    http_server.routes["/search.json"] = (FIXTURES / "discourse_search.json").read_bytes()
    http_server.routes["/c/support/5.json"] = (FIXTURES / "discourse_latest.json").read_bytes()
    http_server.routes["/t/7.json"] = (FIXTURES / "discourse_topic.json").read_bytes()
    http_server.routes["/t/7/posts.json"] = (FIXTURES / "discourse_posts_702.json").read_bytes()
    search = Source("s", "discourse", http_server.url("/"), options={"search": "acme cloud"})
    found = read(search)
    assert [i.author.name for i in found.items][:1] == ["Julie Marchand"]
    assert len(found.items) == 3
    assert http_server.requests()[1].path == "/search.json?q=acme+cloud"
    category = Source("c", "discourse", http_server.url("/c/support/5"))
    listed = read(category)
    assert [i.url for i in listed.items] == [i.url for i in found.items]
    assert any(r.path == "/c/support/5.json" for r in http_server.requests())
    # the category again: unchanged (304), no topic read
    n = len(http_server.requests())
    again = read(category, listed.state)
    assert again.items == [] and again.not_modified
    assert not [r for r in http_server.requests()[n:] if r.path.startswith("/t/")]


def test_a_topic_robots_txt_forbids_is_skipped_and_the_others_read(phpbb_site):
    """One topic disallowed among those listed: the source is read without it (the rule
    stays, so a re-scan of the unchanged forum does not ask again), not failed whole."""
    listing = phpbb_site.pages["/viewforum.php"].decode()
    row = listing[listing.index('<li class="row bg1">') : listing.index("</li>") + 5]
    hidden = row.replace("t=10", "t=11").replace("Acme Cloud outage", "Staff only")
    phpbb_site.pages["/viewforum.php"] = listing.replace(row, row + hidden).encode()
    phpbb_site.routes["/robots.txt"] = "User-agent: *\nDisallow: /viewtopic.php?f=2&t=11\n"
    source = Source(
        "board", "forum", phpbb_site.url("/viewforum.php?f=2"), options={"engine": "phpbb"}
    )
    first = read(source)
    assert [i.author.name for i in first.items] == ["alice", "Guest", "bob"]
    asked = topic_requests(phpbb_site)
    assert asked and all("t=10" in path for path in asked)
    n = len(phpbb_site.requests())
    again = read(source, SourceState(**json.loads(json.dumps(first.state.__dict__))))
    assert again.items == [] and again.not_modified
    assert topic_requests(phpbb_site, n) == []


def test_a_topic_whose_robots_txt_cannot_be_read_is_asked_again_next_scan(
    phpbb_site, http_server_factory
):
    """robots.txt unreachable (503) on the host of one listed topic: skipped this time,
    and the forum page is not marked read, so the next scan asks again."""
    other = http_server_factory("127.0.0.2")
    other.routes["/robots.txt"] = Response(b"down", status=503, conditional=False)
    listing = phpbb_site.pages["/viewforum.php"].decode()
    row = listing[listing.index('<li class="row bg1">') : listing.index("</li>") + 5]
    elsewhere = row.replace(
        "./viewtopic.php?f=2&amp;t=10", other.url("/viewtopic.php?f=2&amp;t=11")
    )
    phpbb_site.pages["/viewforum.php"] = listing.replace(row, row + elsewhere).encode()
    source = Source(
        "board", "forum", phpbb_site.url("/viewforum.php?f=2"), options={"engine": "phpbb"}
    )
    first = read(source)
    assert [i.author.name for i in first.items] == ["alice", "Guest", "bob"]
    assert other.hits("/robots.txt") == 1 and other.hits("/viewtopic.php") == 0
    again = read(source, SourceState(**json.loads(json.dumps(first.state.__dict__))))
    assert again.items == []  # the topic read is unchanged
    assert other.hits("/robots.txt") == 2  # the other one is tried again: it may be back


def test_robots_txt_applies_to_every_page_of_a_forum(phpbb_site):
    """robots.txt is read for the topic pages too: a forum whose robots.txt forbids its
    topics fails with that reason, and no topic page is asked for."""
    phpbb_site.routes["/robots.txt"] = "User-agent: *\nDisallow: /viewtopic.php\n"
    source = Source(
        "board", "forum", phpbb_site.url("/viewforum.php?f=2"), options={"engine": "phpbb"}
    )
    with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt"):
        read(source)
    assert phpbb_site.hits("/viewforum.php?f=2") == 1
    assert topic_requests(phpbb_site) == []
    assert max(phpbb_site.max_in_flight.values()) <= 2


def test_refusals_skip_forbidden_pages_and_fail_only_a_walk_refused_everywhere():
    from ereput.errors import RobotsUnreachable
    from ereput.fetchers.base import Refusals

    async def answer(value):
        if isinstance(value, Exception):
            raise value
        return value

    async def walk(*answers):
        refusals = Refusals()
        done = [await refusals.attempt(answer(a)) for a in answers]
        return refusals, done

    rule = RobotsDisallowed("disallowed by robots.txt: http://f.example/t/2")
    down = RobotsUnreachable("robots.txt unreachable: HTTP 503 from http://g.example/robots.txt")
    refusals, done = asyncio.run(walk(True, rule, down, False, None))
    # a rule stands (done); an outage is asked again (not done); a listing (None) is done
    assert done == [True, True, False, False, True]
    refusals.check()  # two topics were read: the walk does not fail
    # forbidden topics and a readable sub-forum whose topics were all forbidden: it fails
    refusals, _ = asyncio.run(walk(rule, None, down))
    with pytest.raises(RobotsDisallowed, match="t/2"):
        refusals.check()
