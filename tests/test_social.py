"""Social sources: Reddit, Hacker News and Mastodon parsers on the shared corpus (in place)
and on our fixtures, ActivityPub objects, and the readers against the local HTTP server.

Every file of `social/` is read here through a reader, served by the local server: the
ActivityPub objects and actors (and those of `forums/`) by the `activitypub` reader, Reddit,
Hacker News and Mastodon files by theirs; the saved pages of platforms without a source
kind as a user would name them: the X status and the LinkedIn article as one-post `blog`
sources, the Pikabu story and its comments as a `forum` with `engine = "custom"`
selectors given in the watchlist.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, manifest
from ereput.cli import app
from ereput.fetchers import activitypub, hackernews, mastodon, reddit
from ereput.identifiers import url_identifier
from ereput.models import Identifier, Source
from ereput.watchlist import parse_watchlist
from httpserver import Response
from readers import ToServer, read

FIXTURES = Path(__file__).parent / "fixtures" / "social"
M = manifest()
AP_FILES = [p for p, row in M.items() if p.startswith("social/") and Path(p).name.startswith("ap_")]


def test_corpus_reddit_morechildren():
    path = "social/reddit/api_morechildren.json"
    exp = M[path]["expected"]
    page = reddit.parse_listing((CORPUS / path).read_bytes())
    assert len(page.items) == exp["n_comments"]
    for item, want in zip(page.items, exp["comments"], strict=True):
        assert item.entry_id == f"t1_{want['id']}"
        assert item.author.name == f"u/{want['author']}"
        assert (
            Identifier("handle", f"{want['author'].lower()}@reddit.com") in item.author.identifiers
        )
        kind, _, pid = want["parent_id"].partition("_")
        thread = "https://www.reddit.com/comments/123/"
        assert item.thread_url == thread
        assert item.parent_url == (thread if kind == "t3" else f"{thread}_/{pid}/")
    assert page.items[1].parent_url == page.items[0].url  # ghi replies to def


def test_corpus_reddit_user_overview():
    path = "social/reddit/api_user_overview.json"
    exp = M[path]["expected"]
    page = reddit.parse_listing((CORPUS / path).read_bytes())
    assert len(page.items) == exp["n_items"]
    for item, want in zip(page.items, exp["items"], strict=True):
        assert item.entry_id == f"{want['kind']}_{want['id']}"
        assert item.author.name == f"u/{want['author']}"
        assert item.published.timestamp() == want["created_utc"]
    post, comment = page.items
    assert post.thread_url is None and post.parent_url is None and post.title
    assert comment.text == "Thank you!" and comment.title == ""
    assert comment.parent_url == comment.thread_url == "https://www.reddit.com/comments/d7ejpn/"


@pytest.mark.parametrize("path", [p for p in M if p.startswith("social/hackernews/firebase_item_")])
def test_corpus_hackernews_firebase_items(path):
    exp = M[path]["expected"]
    (item,) = hackernews.parse_search((CORPUS / path).read_bytes()).items
    assert item.url == f"https://news.ycombinator.com/item?id={exp['id']}"
    assert item.author.name == exp["author"]
    assert Identifier("handle", f"{exp['author']}@news.ycombinator.com") in item.author.identifiers
    assert item.published.timestamp() == exp["time"]
    if exp["type"] == "story":
        assert item.title == exp["title"] and item.parent_url is None
    else:
        assert item.parent_url == f"https://news.ycombinator.com/item?id={exp['parent']}"
        assert item.text.startswith(exp["text_starts"]) and item.title == ""


def test_corpus_mastodon_streaming_update():
    path = "social/mastodon/streaming_update_event.json"
    exp = M[path]["expected"]
    (item,) = mastodon.parse_statuses(
        (CORPUS / path).read_bytes(), "https://instance.codesections.com/"
    )
    acc = exp["account"]
    assert item.url == exp["url"] and item.parent_url is None
    assert item.published.isoformat() == "2019-09-11T18:42:19+00:00"
    assert item.author.name == acc["display_name"]
    assert item.author.profile_url == acc["url"]
    assert Identifier("acct", acc["acct"]) in item.author.identifiers
    assert all(f"#{t}" in item.text for t in exp["tags"]) and "<" not in item.text


@pytest.mark.parametrize("path", AP_FILES)
def test_corpus_activitypub_objects(path):
    exp = M[path]["expected"]
    body = (CORPUS / path).read_bytes()
    if exp["type"] == "Person":
        actor = activitypub.parse_actor(body)
        assert actor.account.name == exp["display_name"].strip()
        assert actor.username == exp["username"]
        assert actor.account.profile_url == exp["profile_url"]
        assert Identifier("acct", f"{exp['username']}@{actor.account.site}") in (
            actor.account.identifiers
        )
        if "gravatar" in (exp["avatar"] or ""):
            assert Identifier("avatar", "a2bdca7870e859658cece96c044b3be5") in (
                actor.account.identifiers
            )
        else:
            assert actor.avatar == exp["avatar"]
    else:
        (item,) = activitypub.parse_object(body)
        assert item.url == exp["id"] and item.parent_url == exp["inReplyTo"]
        assert item.author.profile_url == exp["attributedTo"]
        assert item.published.isoformat().startswith(exp["published"].rstrip("Z")[:19])
        assert item.title == (exp.get("title") or "")
        assert item.text and "<" not in item.text


# --- readers against the local server --------------------------------------------------------


def test_reddit_reader_search_then_only_newer(http_server):
    http_server.routes["/search.json"] = (FIXTURES / "reddit_search.json").read_bytes()
    source = Source("r", "reddit", http_server.url("/"), options={"search": ["acme cloud"]})
    first = read(source)
    post, deleted = first.items
    assert post.title == "Acme Cloud down?" and post.author.name == "u/opsguy"
    assert post.author.profile_url == "https://www.reddit.com/user/opsguy"
    assert deleted.author.identifiers == ()
    assert http_server.requests()[-1].path.startswith("/search.json?q=acme+cloud&sort=new")
    assert read(source, first.state).items == []


def test_reddit_comment_tree_parents():
    page = reddit.parse_listing((FIXTURES / "reddit_comments.json").read_bytes())
    post, c1, c2 = page.items
    assert c1.parent_url == post.url == c1.thread_url
    assert c2.parent_url == c1.url and c2.thread_url == post.url


def test_hackernews_reader_algolia(http_server):
    source = Source(
        "hn", "hackernews", http_server.url("/algolia/"), options={"search": ["acme cloud"]}
    )
    http_server.routes["/algolia/search_by_date"] = (FIXTURES / "hn_search.json").read_bytes()
    first = read(source)
    story, c1, c2 = first.items
    assert story.url == "https://news.ycombinator.com/item?id=41000001" and story.thread_url is None
    assert c1.thread_url == story.url and c1.parent_url == story.url and c1.title == ""
    assert c2.parent_url == c1.url and c2.thread_url == story.url
    assert Identifier("handle", "pg_fan@news.ycombinator.com") in story.author.identifiers
    assert first.state.cursor["since"] == 1763211600
    read(source, first.state)
    assert "created_at_i%3E1763211600" in http_server.requests()[-1].path


def test_mastodon_reader_tag_timeline(http_server):
    http_server.routes["/api/v1/timelines/tag/acmecloud"] = (
        FIXTURES / "mastodon_tag.json"
    ).read_bytes()
    source = Source("m", "mastodon", http_server.url("/"), options={"tag": ["#acmecloud"]})
    result = read(source)
    reply, root = result.items
    assert reply.parent_url == root.url == "https://mastodon.example/@julie/1"
    assert Identifier("acct", f"luc@{http_server.host}") in reply.author.identifiers
    assert Identifier("acct", "julie@mastodon.example") in root.author.identifiers
    assert root.text == "Panne chez #acmecloud ce matin"
    assert result.state.cursor["since_id"]
    read(source, result.state)
    assert "since_id=113000000000000002" in http_server.requests()[-1].path


# --- ActivityPub objects and actors through the `activitypub` reader --------------------------

ALL_AP = [
    p
    for p, row in M.items()
    if p.startswith(("social/", "forums/")) and Path(p).name.startswith("ap_")
]
AP_JSON = {"Content-Type": "application/activity+json; charset=utf-8"}


def _path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def fediverse(http_server):
    """Every ActivityPub file of the corpus served at its own id (whatever its host: the
    client's transport sends every request to 127.0.0.1), read in place."""
    for path in ALL_AP:
        doc_id = json.loads((CORPUS / path).read_bytes())["id"]
        body = (CORPUS / path).read_bytes()
        http_server.routes[_path_of(doc_id)] = Response(body, headers=AP_JSON)
    http_server.transport = ToServer(http_server)
    return http_server


@pytest.mark.parametrize("path", [p for p in ALL_AP if M[p]["expected"]["type"] != "Person"])
def test_corpus_activitypub_objects_through_the_reader(fediverse, path):
    exp = M[path]["expected"]
    source = Source("ap", "activitypub", exp["id"])
    result = read(source, transport=fediverse.transport)
    (item,) = result.items
    assert item.url == exp["id"] and item.parent_url == exp["inReplyTo"]
    assert item.title == (exp.get("title") or "")
    assert item.published.isoformat().startswith(exp["published"].rstrip("Z")[:19])
    actor_file = next(
        (
            p
            for p in ALL_AP
            if M[p]["expected"]["type"] == "Person"
            and M[p]["expected"]["id"] == exp["attributedTo"]
        ),
        None,
    )
    if actor_file is None:  # the actor is not served (404): known by its URL alone
        assert item.author.profile_url == exp["attributedTo"] and item.author.name == ""
        assert url_identifier(exp["attributedTo"]) in item.author.identifiers
    else:  # the actor was fetched: its name and fediverse account
        actor = M[actor_file]["expected"]
        assert item.author.name == actor["display_name"].strip()
        host = urlsplit(actor["id"]).hostname
        assert Identifier("acct", f"{actor['username']}@{host}") in item.author.identifiers
    # unchanged: asked again conditionally, a 304, nothing new
    n = len(fediverse.requests())
    again = read(source, result.state, transport=fediverse.transport)
    assert again.items == [] and again.not_modified
    asked = [r for r in fediverse.requests()[n:] if r.path != "/robots.txt"]
    assert [r.headers.get("if-none-match") is not None for r in asked] == [True]


@pytest.mark.parametrize("path", [p for p in ALL_AP if M[p]["expected"]["type"] == "Person"])
def test_corpus_activitypub_actor_and_its_outbox(fediverse, path):
    """An actor as a source: its outbox (our fixture, in two pages) read with the actor's
    name, acct and avatar on every post."""
    exp = M[path]["expected"]
    actor_id = exp["id"]
    outbox = json.loads((CORPUS / path).read_bytes())["outbox"]

    def note(n, reply_to=None):
        return {
            "type": "Create",
            "object": {
                "type": "Note",
                "id": f"{actor_id.rstrip('/')}/notes/{n}",
                "attributedTo": actor_id,
                "inReplyTo": reply_to,
                "published": f"2026-11-1{n}T10:00:00Z",
                "content": f"<p>Acme Cloud note {n}</p>",
            },
        }

    page2 = f"{outbox}?page=2"
    fediverse.routes[_path_of(outbox)] = Response(
        json.dumps(
            {
                "type": "OrderedCollection",
                "totalItems": 2,
                "first": {
                    "type": "OrderedCollectionPage",
                    "orderedItems": [note(1)],
                    "next": page2,
                },
            }
        ),
        headers=AP_JSON,
    )
    fediverse.routes[_path_of(page2)] = Response(
        json.dumps(
            {"type": "OrderedCollectionPage", "orderedItems": [note(2, "https://x.example/1")]}
        ),
        headers=AP_JSON,
    )
    source = Source("ap", "activitypub", actor_id)
    result = read(source, transport=fediverse.transport)
    first, second = result.items
    assert first.text == "Acme Cloud note 1" and first.parent_url is None
    assert second.parent_url == "https://x.example/1"
    for item in result.items:
        assert item.author.name == exp["display_name"].strip()
        assert item.author.profile_url == exp["profile_url"]
        host = urlsplit(actor_id).hostname
        assert Identifier("acct", f"{exp['username']}@{host}") in item.author.identifiers
    # the page cap: one page only, the actor itself
    capped = read(
        Source("ap", "activitypub", actor_id, options={"max_pages": 1}),
        transport=fediverse.transport,
    )
    assert capped.items == []


# --- the other social corpus files through their readers -----------------------------------


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("social/reddit/api_morechildren.json", "/api/morechildren.json"),
        ("social/reddit/api_user_overview.json", "/user/v_95/overview.json"),
    ],
)
def test_corpus_reddit_through_the_reader(http_server, path, route):
    exp = M[path]["expected"]
    http_server.routes[route] = (CORPUS / path).read_bytes()
    source = Source("r", "reddit", http_server.url(route))
    result = read(source)
    want = exp.get("comments") or exp["items"]
    assert [i.entry_id for i in result.items] == [f"{w.get('kind', 't1')}_{w['id']}" for w in want]
    assert [i.author.name for i in result.items] == [f"u/{w['author']}" for w in want]
    for item, w in zip(result.items, want, strict=True):
        if w.get("parent_id", "").startswith("t1_"):
            assert item.parent_url == f"{item.thread_url}_/{w['parent_id'][3:]}/"
        elif "parent_id" in w:
            assert (
                item.parent_url
                == item.thread_url
                == f"https://www.reddit.com/comments/{w['parent_id'][3:]}/"
            )
    assert read(source, result.state).items == []  # nothing newer


@pytest.mark.parametrize("path", [p for p in M if p.startswith("social/hackernews/firebase_item_")])
def test_corpus_hackernews_item_through_the_reader(http_server, path):
    exp = M[path]["expected"]
    route = f"/v0/item/{exp['id']}.json"
    http_server.routes[route] = (CORPUS / path).read_bytes()
    source = Source("hn", "hackernews", http_server.url(route))
    result = read(source)
    (item,) = result.items
    assert item.url == f"https://news.ycombinator.com/item?id={exp['id']}"
    assert item.author.name == exp["author"] and item.published.timestamp() == exp["time"]
    assert item.title == (exp.get("title") or "")
    assert read(source, result.state).items == []


def test_corpus_mastodon_streaming_event_through_the_reader(http_server):
    path = "social/mastodon/streaming_update_event.json"
    exp = M[path]["expected"]
    http_server.routes["/api/v1/streaming/public"] = (CORPUS / path).read_bytes()
    result = read(Source("m", "mastodon", http_server.url("/api/v1/streaming/public")))
    (item,) = result.items
    assert item.url == exp["url"] and item.parent_url is None
    assert item.author.name == exp["account"]["display_name"]
    assert Identifier("acct", exp["account"]["acct"]) in item.author.identifiers
    assert item.published.isoformat() == "2019-09-11T18:42:19+00:00"


# --- saved pages of platforms without a source kind -----------------------------------------

PIKABU = "social/pikabu/pikabu.ru.matrix.html"
PIKABU_STORY = "/story/7_interesnyikh_nablyudeniy_o_pervoy_matritse_6758662"


def test_corpus_pikabu_story_as_a_custom_forum_configured_in_toml(http_server, tmp_path):
    """A Pikabu story and its server-rendered comments, read by `engine = "custom"` with
    selectors given only in the watchlist; the story names the brand ("Матрице"), so its
    comments are kept as context."""
    exp = M[PIKABU]["expected"]
    http_server.routes[PIKABU_STORY] = (CORPUS / PIKABU).read_bytes()
    wl = tmp_path / "matrix.toml"
    wl.write_text(
        textwrap.dedent(f"""\
        name = "matrix"
        timezone = "Europe/Moscow"
        [query]
        terms = ["Матрице"]

        [[sources]]
        name = "pikabu"
        kind = "forum"
        url = "{http_server.url(PIKABU_STORY)}"
        engine = "custom"

        [sources.selectors]
        post = "article.story[data-page=true], div.comment[data-id]"
        author = "a.story__user-link, .comment__user[data-name]"
        author_url = "a.story__user-link, .comment__user a"
        date = "time.story__datetime, .comment__header time"
        body = ".story__content-inner, .comment__content"
        """),
        encoding="utf-8",
    )
    db = tmp_path / "e.db"
    run = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["new"] == 1 + exp["n_comments_in_page"]
    out = CliRunner().invoke(
        app, ["--db", str(db), "-w", str(wl), "mentions", "--json", "--limit", "0"]
    )
    mentions = json.loads(out.stdout)
    story = next(m for m in mentions if m["parent_url"] is None)
    assert story["author"]["name"] == exp["post_author"] and story["matched"]
    assert story["title"].startswith(exp["title"])
    comments = [m for m in mentions if m["parent_url"] is not None]
    assert len({c["author"]["name"] for c in comments}) == exp["n_unique_commenters"]
    assert all(c["thread_url"] == story["url"] and c["title"] == "" for c in comments)
    first = next(c for c in comments if c["url"].endswith(exp["first_comment"]["id"]))
    assert first["author"]["name"] == exp["first_comment"]["author"]
    assert first["author"]["class"] == "identified"
    assert first["published"] == "2019-06-13T21:24:58Z"  # 00:24:58+03:00
    assert first["context"] is True
    again = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert json.loads(again.stdout)["new"] == 0 and json.loads(again.stdout)["updated"] == 0


def test_corpus_linkedin_article_as_a_blog_post(http_server):
    path = "social/linkedin/linkedin-pulse.finai.html"
    exp = M[path]["expected"]
    http_server.routes["/pulse/finai"] = (CORPUS / path).read_bytes()
    result = read(Source("li", "blog", http_server.url("/pulse/finai")))
    (post,) = result.items
    assert post.title == exp["title"] and post.author.name == exp["post_author"]
    assert post.published.date().isoformat() == exp["published"]


def test_corpus_x_status_page_as_a_blog_post(http_server):
    """An X/Twitter status page as served to crawlers (Open Graph tags only), named by a
    `blog` source: the status, its author's handle, its date from the status id."""
    path = "social/twitter/x.com.UaSmart.status.html"
    exp = M[path]["expected"]
    route = "/UaSmart/status/934106870834454529"
    http_server.routes[route] = (CORPUS / path).read_bytes()
    result = read(Source("x", "blog", http_server.url(route)))
    (status,) = result.items
    assert status.text == exp["text"] and status.title == ""
    assert all(m in status.text for m in exp["mentions"])
    assert status.author.name == exp["author_display_name"]
    assert status.author.profile_url == "https://twitter.com/" + exp["author_handle"][1:]
    assert Identifier("handle", "uasmart@twitter.com") in status.author.identifiers
    assert status.entry_id == "twitter-status-" + exp["status_url"].rsplit("/", 1)[1]
    assert status.published == datetime(2017, 11, 24, 17, 10, 7, 530000, tzinfo=UTC)


def test_reddit_reads_the_comment_thread_of_a_found_post(http_server):
    """A post found by the search brings its comments (bounded per scan); a re-scan reads
    the thread again only when its comment count grew, and returns only new comments."""
    search = json.loads((FIXTURES / "reddit_search.json").read_bytes())
    search["data"]["children"][0]["data"]["num_comments"] = 2  # abc123
    search["data"]["children"][1]["data"]["num_comments"] = 0  # abc124: nothing to read
    pages = {
        "search": json.dumps(search),
        "thread": (FIXTURES / "reddit_comments.json").read_bytes(),
    }
    http_server.routes["/search.json"] = lambda r: Response(pages["search"])
    http_server.routes["/comments/abc123.json"] = lambda r: Response(pages["thread"])
    source = Source("r", "reddit", http_server.url("/"), options={"search": ["acme cloud"]})
    first = read(source)
    post, _deleted, c1, c2 = first.items
    assert post.url == "https://www.reddit.com/comments/abc123/" and post.title
    assert c1.thread_url == post.url and c1.parent_url == post.url and c1.title == ""
    assert c2.parent_url == c1.url and c2.thread_url == post.url
    assert http_server.hits("/comments/abc124.json") == 0
    assert [r.path for r in http_server.requests() if r.path.startswith("/comments/")] == [
        "/comments/abc123.json?limit=100&sort=new"
    ]
    # unchanged count: the thread is not read again
    again = read(source, first.state)
    assert again.items == []
    assert http_server.hits("/comments/abc123.json?limit=100&sort=new") == 1
    # a new comment: the count grows, the thread is read, only the new comment comes back
    search["data"]["children"][0]["data"]["num_comments"] = 3
    thread = json.loads(pages["thread"])
    new = json.loads(json.dumps(thread[1]["data"]["children"][0]))
    new["data"].update(id="c9", body="Still down here.", created_utc=1763299999.0, replies="")
    thread[1]["data"]["children"].insert(0, new)
    pages["search"], pages["thread"] = json.dumps(search), json.dumps(thread)
    third = read(source, again.state)
    assert [i.text for i in third.items] == ["Still down here."]
    assert third.items[0].thread_url == post.url


def test_watchlist_accepts_the_activitypub_kind_and_the_stackexchange_engine():
    wl = parse_watchlist(
        {
            "name": "acme",
            "query": {"terms": ["acme"]},
            "sources": [
                {
                    "name": "fedi",
                    "kind": "activitypub",
                    "url": "https://mastodon.example/@julie",
                    "max_pages": 3,
                },
                {
                    "name": "se",
                    "kind": "forum",
                    "engine": "stackexchange",
                    "url": "https://german.stackexchange.com/questions/tagged/passive",
                },
            ],
        },
        "acme.toml",
    )
    fedi, se = wl.sources
    assert fedi.kind == "activitypub" and fedi.options == {"max_pages": 3}
    assert se.options == {"engine": "stackexchange"}


def test_reddit_thread_replies_stored_as_context(http_server, tmp_path):
    """SPEC §2: replies in a thread whose post names the brand are stored, as context."""
    search = json.loads((FIXTURES / "reddit_search.json").read_bytes())
    search["data"]["children"][0]["data"]["num_comments"] = 2
    http_server.routes["/search.json"] = json.dumps(search)
    http_server.routes["/comments/abc123.json"] = (FIXTURES / "reddit_comments.json").read_bytes()
    wl = tmp_path / "acme.toml"
    wl.write_text(
        textwrap.dedent(f"""\
        name = "acme"
        [query]
        terms = ['"Acme Cloud"']

        [[sources]]
        name = "reddit"
        kind = "reddit"
        url = "{http_server.url("/")}"
        search = ["acme cloud"]
        """),
        encoding="utf-8",
    )
    db = tmp_path / "e.db"
    run = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    assert run.exit_code == 0, run.output
    out = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "mentions", "--json"])
    by_url = {m["url"]: m for m in json.loads(out.stdout)}
    post = by_url["https://www.reddit.com/comments/abc123/"]
    assert post["matched"] and not post["context"]
    replies = [m for m in by_url.values() if m["thread_url"] == post["url"] and m is not post]
    assert len(replies) == 2
    assert all(r["context"] and r["matched"] == [] for r in replies)
