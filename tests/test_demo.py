"""`ereput demo`: the whole job offline, as a newcomer first runs it."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from datetime import date
from importlib import resources

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import ROOT
from ereput.cli import app
from ereput.demo import serve
from ereput.render.report import print_text_report

WATCHLIST = ROOT / "watchlists" / "demo.toml"
POST = "/blog.tech-sud.test/2026/acme-cloud-retour-experience/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run for the module: (CLI result, database path)."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    return result, db


def cli(db, *args):
    result = CliRunner().invoke(app, ["--db", str(db), "-w", str(WATCHLIST), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def mentions(demo):
    _, db = demo
    return json.loads(cli(db, "mentions", "--json", "--limit", "0").stdout)


def by_url(mentions, suffix):
    found = [m for m in mentions if m["url"].endswith(suffix)]
    assert len(found) == 1, suffix
    return found[0]


def test_demo_scans_twice_and_prints_the_report(demo, mentions):
    result, db = demo
    assert "scan 1: 8 sources" in result.stderr and "0 failed" in result.stderr
    # The second scan stores nothing: every source answers 304 (forums: every listing).
    assert "scan 2: 0 new; 8 of 8 sources answered 304" in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["watchlist"] == "acme-demo"
    assert report["totals"]["mentions"] > 20 and report["totals"]["previous"] > 5
    grid = report["quadrants"]
    # The brand's blog and forum: declared members, and one newcomer on the forum.
    assert grid["community"]["member"] >= 8 and grid["community"]["identified"] >= 1
    assert grid["open"]["member"] >= 3  # Julie answering outside, Sophie the journalist
    assert grid["open"]["identified"] >= 8 and grid["open"]["anonymous"] >= 3
    # Julie, community manager, answers on the open social web and blogs: an ambassador.
    assert [a["name"] for a in report["ambassadors"]] == ["Julie Marchand"]
    assert report["community"]["by_role"] == {
        "brand": 1,
        "community_manager": 1,
        "customer": 2,
        "mediator": 1,
    }
    assert {t["source"] for t in report["top_sources"]} >= {
        "acme-forum",
        "tech-sud-blog",
        "forum-conso",
    }

    # With --db the database stays for exploring, with the shipped demo watchlist.
    urls = {m["url"] for m in mentions}
    assert "https://blog.example.net/2026/pourquoi-nous-avons-quitte-acme" in urls
    assert not any("acmeville" in u or "coyote" in u for u in urls)  # decoy and exclusion
    kevin = cli(db, "author", "kevin dubois")
    assert "Kévin Dubois" in kevin.stdout


def test_demo_blog_comment_thread(mentions):
    post = by_url(mentions, POST)
    assert post["source"] == "tech-sud-blog" and post["space"] == "open"
    assert post["author"]["name"] == "Bastien Morel"
    # A comment that does not name the brand, kept because the post does.
    context = by_url(mentions, POST + "#comment-201")
    assert context["matched"] == [] and context["context"] is True
    assert context["thread_url"] == post["url"]
    # Julie answers in a threaded reply, signed with her forum profile: a member, outside.
    question = by_url(mentions, POST + "#comment-202")
    reply = by_url(mentions, POST + "#comment-203")
    assert reply["parent_url"] == question["url"]
    assert reply["author"]["class"] == "member" and reply["space"] == "open"
    assert reply["author"]["role"] == "community_manager"
    assert by_url(mentions, POST + "#comment-204")["author"]["class"] == "anonymous"
    assert question["author"]["class"] == "identified"  # a Gravatar
    assert by_url(mentions, POST + "#comment-205")["author"]["class"] == "identified"


def test_demo_community_forum(mentions):
    forum = [m for m in mentions if m["source"] == "acme-forum"]
    assert len(forum) == 10 and {m["space"] for m in forum} == {"community"}
    roles = {m["author"]["name"]: m["author"]["role"] for m in forum}
    assert roles == {
        "Thomas Bernard": "customer",
        "Claire Fontaine": "customer",
        "Julie Marchand": "community_manager",
        "Hugo L.": None,  # a newcomer: identified, not (yet) a declared member
    }
    answer = by_url(mentions, "/forum.acme.test/t/volumes-inaccessibles/42/3")
    assert answer["author"]["name"] == "Julie Marchand"
    assert answer["parent_url"].endswith("/forum.acme.test/t/volumes-inaccessibles/42/1")
    assert answer["context"] is True  # the thread is about the brand, the answer need not be


def test_demo_consumer_forum(mentions):
    posts = [m for m in mentions if m["source"] == "forum-conso"]
    assert {m["space"] for m in posts} == {"open"}
    # The topic's second page is read; the quote makes Kévin's post a reply to the first.
    kevin = by_url(mentions, "viewtopic.php?p=314#p314")
    assert kevin["author"]["name"] == "Kévin Dubois"
    assert kevin["parent_url"].endswith("viewtopic.php?p=311#p311")
    assert by_url(mentions, "viewtopic.php?p=312#p312")["author"]["class"] == "anonymous"
    assert by_url(mentions, "viewtopic.php?p=313#p313")["matched"] == []
    # In a topic that does not name the brand, only the reply that does is kept.
    assert any(m["url"].endswith("p=282#p282") for m in posts)
    assert not any(m["url"].endswith("p=281#p281") for m in posts)


def test_demo_kevin_is_one_person_on_his_blog_and_the_forum(demo):
    _, db = demo
    persons = json.loads(cli(db, "author", "kevin dubois", "--json").stdout)
    assert len(persons) == 1
    kevin = persons[0]
    assert {a["platform"] for a in kevin["accounts"]} == {"feed", "phpbb"}
    assert {s["source"] for s in kevin["sources"]} == {"grumpy-blog", "forum-conso"}


def test_demo_shows_every_declared_role_a_troll_an_invitation_and_an_ambassador(demo):
    result, db = demo
    declared = {"community_manager", "brand", "mediator", "customer"}
    members = json.loads(cli(db, "authors", "--class", "member", "--json").stdout)
    assert {m["role"] for m in members} == declared
    flagged = {
        flag: [p["name"] for p in json.loads(cli(db, "authors", "--flag", flag, "--json").stdout)]
        for flag in ("troll", "invite", "ambassador")
    }
    assert flagged["troll"] == ["Kévin Dubois"]
    assert "Léa Moreau" in flagged["invite"] and "Kévin Dubois" not in flagged["invite"]
    assert "Julie Marchand" in flagged["ambassador"]
    # The report says the same, with the reasons.
    report = json.loads(result.stdout)
    assert [t["name"] for t in report["trolls"]] == ["Kévin Dubois"]
    assert "average sentiment" in report["trolls"][0]["why"]
    assert report["invite_candidates"] and report["ambassadors"]
    # Each card reads in an 80-column terminal.
    for name in ("Kévin Dubois", "Léa Moreau", "Julie Marchand", "Sophie Laurent"):
        card = CliRunner().invoke(
            app, ["--db", str(db), "-w", str(WATCHLIST), "author", name], env={"COLUMNS": "80"}
        )
        assert card.exit_code == 0 and name in card.stdout
        assert max(len(line) for line in card.stdout.splitlines()) <= 80


def test_text_report_fits_80_columns(demo):
    result, _ = demo
    console = Console(width=80, record=True, file=io.StringIO())
    print_text_report(json.loads(result.stdout), console)
    lines = console.export_text().splitlines()
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= 80
    # A spike day reads on one line, not wrapped mid-sentence.
    spikes = [line for line in lines if line.lstrip().startswith("▲")]
    assert spikes and all(line.rstrip().endswith("7-day avg") for line in spikes)
    # Persons to act on: one bullet each; a wrapped reason and the link hang under it.
    end = next(i for i, x in enumerate(lines) if x.startswith("Top threads"))
    act = lines[lines.index("To act on") + 1 : end]
    persons = [x for x in act if x.startswith("    • ")]
    assert len(persons) >= 3
    assert all(x.startswith(("  ", "    • ", "      ")) for x in act if x.strip())
    assert all(x.startswith("  ") and x.rstrip().endswith(":") for x in act if x[2:3] != " ")


def test_demo_server_maps_query_strings_to_files():
    with serve(date(2026, 11, 25)) as base:
        forum = f"{base}/forum.conso.test/viewtopic.php?f=4&t=31"
        with urllib.request.urlopen(f"{forum}&start=3") as page:
            body = page.read().decode()
            assert page.headers["Content-Type"].startswith("text/html")
        assert 'id="p314"' in body and "{{" not in body and "2026-11-18T21:30:00+01:00" in body
        with urllib.request.urlopen(forum) as page:
            assert 'id="p311"' in page.read().decode()
        with urllib.request.urlopen(f"{base}/grumpy.test/feed.json?x=1") as page:
            assert page.headers["Content-Type"].startswith("application/feed+json")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/forum.conso.test/viewtopic.php?f=4&t=99")
        assert missing.value.code == 404
        missing.value.close()


def test_shipped_demo_watchlist_is_the_one_the_demo_uses():
    packaged = (resources.files("ereput.demo") / "acme-demo.toml").read_text(encoding="utf-8")
    assert WATCHLIST.read_text(encoding="utf-8") == packaged
