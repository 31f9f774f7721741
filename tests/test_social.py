"""Social sources: Reddit, Hacker News and Mastodon parsers on the shared corpus (in place)
and on our fixtures, ActivityPub objects, and the readers against the local HTTP server.

Corpus files of `social/` not read here, and why:
- `social/twitter/x.com.UaSmart.status.html`, `social/linkedin/linkedin-pulse.finai.html`:
  single article/status pages of platforms that have no source kind (SPEC §3); a `blog`
  source reads such pages generically.
- `social/pikabu/pikabu.ru.matrix.html`: a story page of a site without a source kind; its
  comments could be read by a `forum` source with `engine = "custom"` selectors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS, manifest
from ereput.fetchers import activitypub, hackernews, mastodon, reddit
from ereput.models import Identifier, Source
from readers import read

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
