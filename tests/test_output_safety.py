"""Output safety (SPEC §5, §7): hostile author names, titles and bodies, stored through a
real scan, come out inert from `mentions` (table, --json, --nl, --csv), `author` (card and
--json) and `sources`: no terminal escape or bidi override reaches a terminal, no console
markup is interpreted, no spreadsheet cell starts a formula, and JSON gives every string
back verbatim (SQL-looking ones included). The `report` formats have their own tests."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from feedsite import watchlist
from httpserver import Response, redirect

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<a href=\"javascript:alert(1)\" onclick='alert(2)'>x</a>",
    "[click me](javascript:alert(1)) ![pixel](https://evil.example/p.png)",
    "[bold red]rich markup[/bold red] [link=https://evil.example]link[/link]",
    "\x1b[2J\x1b[31mcleared and red\x1b[0m",
    "\x1b]8;;https://evil.example\x07hyperlink\x1b]8;;\x07",
    "\x1b]0;window title\x07bell",
    "\x9b31mC1 CSI\x9b0m \x85next line",
    "fake line\roverwritten",
    "\u202eevil bidi override\u202c \u2066isolate\u2069 zero\u200bwidth",
    '=HYPERLINK("https://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "Robert'); DROP TABLE mentions;--",
    "1' OR '1'='1",
]
# What must never reach a terminal: C0 controls but newline and tab, DEL, C1 controls, and
# the zero-width and bidi controls that reorder or hide text.
TERMINAL_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def json_feed(base: str) -> bytes:
    items = []
    for i, p in enumerate(PAYLOADS):
        items.append(
            {
                "id": f"{base}/post/{i}",
                "url": f"{base}/post/{i}",
                "title": p,
                "content_text": f"Acme {p} {p}",
                "authors": [{"name": p, "url": f"{base}/users/{i}"}],
                "date_published": f"2026-11-{10 + i % 10:02d}T10:00:00Z",
            }
        )
    items.append(  # a profile URL that is a script is dropped, the rest kept
        {
            "id": f"{base}/post/js",
            "url": f"{base}/post/js",
            "title": "Acme js author",
            "authors": [{"name": "JS author", "url": "javascript:alert(1)"}],
        }
    )
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": items}
    ).encode()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from httpserver import HTTPTestServer as Server

    tmp = tmp_path_factory.mktemp("safety")
    with Server() as server:
        server.routes["/feed.json"] = Response(
            json_feed(server.origin), headers={"Content-Type": "application/feed+json"}
        )
        # A failing source whose error message carries what the server put in a Location.
        server.routes["/evil-redirect"] = redirect("ftp://evil.example/\x9b2J\x9b31m\x85x")
        wl = watchlist(
            tmp / "w.toml",
            [("hostile-feed", server.url("/feed.json")), ("-1", server.url("/evil-redirect"))],
        )
        db = tmp / "e.db"
        result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan"])
        assert result.exit_code == 1, result.output
        assert not TERMINAL_FORBIDDEN.search(result.stderr)
    return db, wl


def run(scanned: tuple[Path, Path], *args: str) -> Any:
    db, wl = scanned
    result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])
    assert result.exit_code == 0, result.output
    return result


def assert_terminal_safe(text: str) -> None:
    bad = TERMINAL_FORBIDDEN.search(text)
    assert bad is None, (
        f"{bad[0]!r} reached the terminal near {text[max(0, bad.start() - 40) : bad.end() + 40]!r}"
    )


def test_json_and_nl_give_every_string_back_verbatim(scanned: tuple[Path, Path]) -> None:
    mentions = json.loads(run(scanned, "mentions", "--json", "--limit", "0").stdout)
    by_title = {m["title"]: m for m in mentions}
    for p in PAYLOADS:
        expected = " ".join(p.split())  # titles are one line: white space collapsed
        assert expected in by_title, p
        m = by_title[expected]
        assert m["author"]["name"] == expected
        assert m["text"] == " ".join(f"Acme {p} {p}".split())
    nl = [
        json.loads(line)
        for line in run(scanned, "mentions", "--nl", "--limit", "0").stdout.splitlines()
    ]
    assert nl == mentions
    raw = run(scanned, "mentions", "--json", "--limit", "0").stdout
    assert "\x1b" not in raw and "\x07" not in raw  # JSON escapes control characters


def test_mentions_table_is_inert_on_a_terminal(scanned: tuple[Path, Path]) -> None:
    out = run(scanned, "mentions", "--limit", "0").stdout
    assert_terminal_safe(out)
    assert "[link=https://evil.example]" in out  # shown as text, not taken as markup


def test_csv_cells_never_start_a_formula(scanned: tuple[Path, Path]) -> None:
    for args in (("mentions", "--csv", "--limit", "0"), ("sources", "--csv")):
        rows = list(csv.reader(io.StringIO(run(scanned, *args).stdout)))
        assert len(rows) > 1
        for row in rows:
            for cell in row:
                if cell.startswith(FORMULA):
                    float(cell)  # only numbers (a negative sentiment) may start with "-"
    mentions = list(
        csv.DictReader(io.StringIO(run(scanned, "mentions", "--csv", "--limit", "0").stdout))
    )
    names = {m["author.name"] for m in mentions}
    assert '\'=HYPERLINK("https://evil.example","click")' in names
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in names
    assert "Robert'); DROP TABLE mentions;--" in names  # not a formula: verbatim
    sources = list(csv.DictReader(io.StringIO(run(scanned, "sources", "--csv").stdout)))
    assert {s["source"] for s in sources} == {"hostile-feed", "'-1"}


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if not p.startswith(("\t", "\r"))])
def test_author_card_and_json_are_inert(scanned: tuple[Path, Path], payload: str) -> None:
    name = " ".join(payload.split())
    people = json.loads(run(scanned, "author", "--query", name, "--json").stdout)
    assert any(p["name"] == name for p in people), [p["name"] for p in people]
    card = run(scanned, "author", "--query", name).stdout
    assert_terminal_safe(card)
    assert "latest mentions" in card


def test_sources_table_and_errors_are_inert(scanned: tuple[Path, Path]) -> None:
    out = run(scanned, "sources").stdout
    assert_terminal_safe(out)
    health = {s["source"]: s for s in json.loads(run(scanned, "sources", "--json").stdout)}
    assert "redirect to a non-http(s) URL refused" in health["-1"]["last_error"]
    assert health["hostile-feed"]["items"] == len(PAYLOADS) + 1


def test_sql_looking_strings_are_stored_verbatim(scanned: tuple[Path, Path]) -> None:
    import sqlite3

    db, _ = scanned
    with sqlite3.connect(db) as conn:
        titles = {t for (t,) in conn.execute("SELECT title FROM mentions")}
        names = {n for (n,) in conn.execute("SELECT name FROM accounts")}
        assert conn.execute("SELECT count(*) FROM mentions").fetchone() == (len(PAYLOADS) + 1,)
    for p in ("Robert'); DROP TABLE mentions;--", "1' OR '1'='1"):
        assert p in titles and p in names
    found = json.loads(run(scanned, "mentions", "--search", "DROP TABLE", "--json").stdout)
    assert [m["title"] for m in found] == ["Robert'); DROP TABLE mentions;--"]


def test_script_urls_never_reach_the_database(scanned: tuple[Path, Path]) -> None:
    people = json.loads(run(scanned, "author", "--query", "JS author", "--json").stdout)
    values = [i["value"] for p in people for i in p["identifiers"]]
    values += [a["profile_url"] or "" for p in people for a in p["accounts"]]
    assert not any("javascript" in v for v in values)
    mentions = json.loads(run(scanned, "mentions", "--json", "--limit", "0").stdout)
    assert all(m["url"].startswith("http") for m in mentions)
