"""`ereput report` in every format on a fixed database (tests/reportdb.py): golden files for
md, json and csv; hostile page content through every format; spikes; the CLI's formats.

Golden files live in tests/golden/. After an intended change of the report, regenerate them
with `EREPUT_REGEN_GOLDEN=1 python -m pytest tests/test_report_formats.py` and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import reportdb
from ereput.cli import app
from ereput.render.html import html_report
from ereput.render.report import markdown_report, print_text_report
from ereput.render.rows import to_csv, to_json
from ereput.services.report import build_report, period_mentions

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("EREPUT_REGEN_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from its golden file (see the module docstring)"


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    db = tmp_path_factory.mktemp("report") / "fixed.db"
    store = reportdb.build(db)
    period = reportdb.period()
    report = build_report(store, reportdb.WATCHLIST, period)
    rows = period_mentions(store, reportdb.WATCHLIST, period)
    store.close()
    return db, report, rows


def text_of(report: dict, width: int = 80, *, terminal: bool = False) -> str:
    out = io.StringIO()
    console = Console(width=width, record=True, file=out, force_terminal=terminal)
    print_text_report(report, console)
    return out.getvalue() if terminal else console.export_text()


# --- golden files ----------------------------------------------------------------------------


def test_markdown_golden(fixed):
    golden("report.md", markdown_report(fixed[1]))


def test_json_golden(fixed):
    golden("report.json", to_json(fixed[1]) + "\n")


def test_csv_golden(fixed):
    golden("mentions.csv", to_csv(fixed[2]))


def test_french_csv_golden(fixed):
    text = to_csv(fixed[2], dialect="fr")
    assert text.startswith("\ufeff") and text.splitlines()[0].count(";") > 10
    golden("mentions-fr.csv", text)


# --- the report's content ------------------------------------------------------------------


def test_the_negative_burst_is_a_spike_with_its_links(fixed):
    report = fixed[1]
    marked = [d["date"] for d in report["daily"] if d["spike"]]
    assert marked == ["2026-11-17"]
    [spike] = report["spikes"]
    assert spike["on"] == ["volume", "negative"] and spike["factor"] == 2.0
    # Judged against the week before the period (one mention a day).
    assert spike["trailing_average"] == 1.0
    # Most negative first.
    assert spike["links"][0] == "https://news.example.org/a/4#comment-1"
    assert {d["date"]: d["negative"] for d in report["daily"]}["2026-11-17"] == 5


def test_the_spike_factor_comes_from_the_rules(tmp_path):
    from dataclasses import replace

    from ereput.models import Rules

    store = reportdb.build(tmp_path / "r.db")
    calm = replace(reportdb.WATCHLIST, rules=Rules(spike_factor=50.0))
    report = build_report(store, calm, reportdb.period())
    store.close()
    assert report["spikes"] == [] and not any(d["spike"] for d in report["daily"])


def test_every_figure_has_its_previous_value(fixed):
    report = fixed[1]
    prev = report["previous"]
    assert (prev["start"], prev["end"]) == ("2026-11-09", "2026-11-15")
    assert report["totals"] == {"mentions": 14, "previous": 7, "delta": 7}
    assert sum(sum(v.values()) for v in prev["quadrants"].values()) == 7
    assert prev["sentiment"]["community"] == 0.6
    assert prev["active_members"] == 2 and report["community"]["active_members"] == 3


def test_every_format_says_the_same(fixed):
    report = fixed[1]
    md = markdown_report(report)
    page = html_report(report)
    text = text_of(report)
    for out in (md, page, text):
        assert "2026-W47" in out and "14" in out
        assert "Kévin D" in out and "Léa Moreau" in out
    # Spikes and flags with their reasons, and the links to the mentions they count.
    for out in (md, page):
        assert "https://news.example.org/a/4#comment-1" in out
        assert "https://blog.kevin.example/2026/outage" in out
    assert "2026-11-17" in text and "▲" in text
    assert "(+" in md and "previous period" in page


def test_text_report_fits_80_columns(fixed):
    lines = text_of(fixed[1]).splitlines()
    assert len(lines) > 30
    assert max(len(line) for line in lines) <= 80


def test_text_report_people_lines_end_cleanly(fixed):
    """ "  trolls:" heads a list, "  trolls: none" stands alone; no line ends in a space."""
    lines = text_of(fixed[1]).splitlines()
    heads = [line for line in lines if re.match(r"  (invite|trolls|ambassadors):", line)]
    assert len(heads) == 3
    assert all(head.rstrip() == head for head in heads)
    assert all(h.endswith(":") or h.endswith(": none") for h in heads)


def test_text_sparkline_folds_a_long_period_into_80_columns(tmp_path):
    store = reportdb.build(tmp_path / "r.db")
    from ereput.services.report import period_for

    report = build_report(
        store,
        reportdb.WATCHLIST,
        period_for("Europe/Paris", since="2026-01-01", until="2026-12-31"),
    )
    store.close()
    lines = text_of(report).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(report["daily"]) == 365


# --- hostile content -------------------------------------------------------------------------

HOSTILE_TITLES = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    '=HYPERLINK("https://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\tTAB",
    "\rCR",
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "\x1b[2J\x1b[31mred",
    "</title></style><style>body{display:none}</style>",
    "| table | break |\n# heading",
    "\u202eevil override",
]
HOSTILE_NAMES = [
    '"><svg onload=alert(1)>',
    "[Kévin](javascript:alert(1))",
    "=cmd|' /C calc'!A0",
    "\x1b]8;;javascript:alert(1)\x1b\\name\x1b]8;;\x1b\\",
    "@admin",
    "-rm",
    "<b>bold</b>",
    "\x1b[2Jclear",
]
HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example/x?q=<script>&y=\"'><",
    "https://evil.example/a b)](javascript:alert(1))",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    rows = []
    for i, row in enumerate(reportdb.ROWS):
        day, hour, source, kind, url, author, _title, text, sentiment, thread = row
        name = HOSTILE_NAMES[i % len(HOSTILE_NAMES)]
        title = HOSTILE_TITLES[i % len(HOSTILE_TITLES)]
        if author is not None:
            author = author.__class__(
                author.site, name, author.identifiers, author.profile_url, author.platform
            )
        rows.append(
            (day, hour, source, kind, url, author, title, text + " " + title, sentiment, thread)
        )
    # Links that must never become links; a thread whose root has a hostile URL.
    for j, url in enumerate(HOSTILE_URLS):
        rows.append(
            (
                17,
                20 + j % 3,
                "news",
                "feed",
                url,
                reportdb.ANON,
                HOSTILE_TITLES[j],
                "Acme Cloud",
                -0.9,
                None,
            )
        )
        rows.append(
            (
                18,
                8,
                "news",
                "feed",
                f"https://news.example.org/r/{j}",
                reportdb.ANON,
                "",
                "Acme Cloud reply",
                -0.5,
                url,
            )
        )
    db = tmp_path_factory.mktemp("hostile") / "hostile.db"
    store = reportdb.build(db, rows)
    period = reportdb.period()
    report = build_report(store, reportdb.WATCHLIST, period)
    mentions = period_mentions(store, reportdb.WATCHLIST, period)
    store.close()
    assert report["totals"]["mentions"] > 20
    return report, mentions


class Tags(HTMLParser):
    """Every tag, attribute and href of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_strings_are_inert_in_html(hostile):
    page = html_report(hostile[0])
    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags
    assert set(parser.tags) <= {
        "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3",
        "p", "div", "section", "span", "b", "i", "small", "strong", "br", "ul", "li", "a",
        "table", "thead", "tbody", "tr", "th", "td", "footer", "svg", "g", "rect", "text",
        "line", "path", "polyline", "circle",
    }  # fmt: skip
    # Attribute names ereput writes; no event handler.
    assert not [a for a, _ in parser.attrs if a.startswith("on")]
    hrefs = [v for a, v in parser.attrs if a in ("href", "src", "xlink:href")]
    assert hrefs and all(v and re.match(r"https?://", v) for v in hrefs), hrefs
    assert not [v for v in hrefs if "<" in v or '"' in v or " " in v]
    # One <style>, ours: a hostile "</style><style>" stays text.
    assert parser.tags.count("style") == 1 and page.count("<style>") == 1
    assert "\x1b" not in page and "\u202e" not in page
    # The hostile strings are shown, as text.
    shown = "".join(parser.text)
    assert '"><svg onload=alert(1)>' in shown and "<b>bold</b>" in shown


def test_hostile_strings_are_inert_in_markdown(hostile):
    md = markdown_report(hostile[0])
    assert "\x1b" not in md and "\u202e" not in md and "\r" not in md
    # No raw HTML, no image, no link but ours: every `](` opens an http(s) target.
    assert not re.search(r"(?<!\\)<(?!https?://)[a-zA-Z/!]", md)
    assert "![" not in md
    targets = re.findall(r"\]\(([^)]*)\)", md)
    assert targets and all(re.match(r"https?://[^\s<>()\[\]]+$", t) for t in targets), targets
    assert "](javascript:" not in md.lower() and "](data:" not in md.lower()
    # A hostile name never opens a table row or a heading of its own.
    body = [line for line in md.splitlines() if line.startswith("#")]
    assert all(line.startswith(("# Acme Cloud", "## ")) for line in body), body


def test_hostile_strings_are_inert_in_text(hostile):
    raw = text_of(hostile[0], terminal=True)
    # Only rich's own colour codes (CSI … m) reach the terminal: no OSC 8 link, no clear.
    assert "\x1b]" not in raw and "\x1b[2J" not in raw and "\u202e" not in raw
    assert not re.findall(r"\x1b(?!\[[0-9;]*m)", raw)
    lines = text_of(hostile[0]).splitlines()
    assert max(len(line) for line in lines) <= 80


def test_hostile_strings_are_inert_in_json(hostile):
    text = to_json(hostile[0])
    assert "\x1b" not in text and "\r" not in text  # escaped as \u001b, \r
    assert json.loads(text) == hostile[0]


@pytest.mark.parametrize("dialect", ["default", "fr"])
def test_hostile_strings_are_inert_in_csv(hostile, dialect):
    text = to_csv(hostile[1], dialect=dialect)
    assert "\x1b" not in text and "\u202e" not in text
    rows = list(
        csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";" if dialect == "fr" else ",")
    )
    header, body = rows[0], rows[1:]
    assert len(body) == len(hostile[1]) and all(len(r) == len(header) for r in body)
    # Numbers (a negative sentiment) stay numbers; text that a spreadsheet would run does not.
    cells = [c for r in body for c in r if not re.fullmatch(r"-?\d+(\.\d+)?", c)]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert '\'=HYPERLINK("https://evil.example","x")' in cells
    assert "'@admin" in cells and "'\tTAB" in cells and "'\rCR" in cells


# --- the command line ------------------------------------------------------------------------

TOML = """name = "acme"
title = "Acme Cloud"
timezone = "Europe/Paris"
sources = []
[query]
terms = ['"Acme Cloud"']
[rules]
spike_factor = 2.0
"""


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("text", lambda out: "2026-W47" in out and "spikes" in out),
        ("md", lambda out: out.startswith("# Acme Cloud — 2026-W47")),
        ("html", lambda out: out.startswith("<!DOCTYPE html>") and "<svg" in out),
        ("json", lambda out: json.loads(out)["spikes"][0]["date"] == "2026-11-17"),
        ("csv", lambda out: out.startswith("id,watchlist,url")),
    ],
)
def test_cli_report_formats(fixed, tmp_path, fmt, check):
    wl = tmp_path / "acme.toml"
    wl.write_text(TOML, encoding="utf-8")
    args = ["--db", str(fixed[0]), "-w", str(wl), "report", "--week", "2026-W47"]
    result = CliRunner().invoke(app, [*args, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert check(result.stdout), result.stdout[:500]


def test_cli_writes_html_and_french_csv_files(fixed, tmp_path):
    wl = tmp_path / "acme.toml"
    wl.write_text(TOML, encoding="utf-8")
    base = ["--db", str(fixed[0]), "-w", str(wl), "report", "--week", "2026-W47"]
    page = tmp_path / "week.html"
    result = CliRunner().invoke(app, [*base, "--format", "html", "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert "<script" not in page.read_text(encoding="utf-8").lower()
    sheet = tmp_path / "week.csv"
    args = [*base, "--format", "csv", "--csv-dialect", "fr", "-o", str(sheet)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbfid;watchlist;url;")


def test_since_until_take_timestamps_and_relative_dates():
    from datetime import date

    from ereput.dates import now
    from ereput.errors import UsageError
    from ereput.services.report import period_for

    # A timestamp is read as the day it falls on in the watchlist's time zone.
    span = period_for("Europe/Paris", since="2026-11-16T23:30:00Z", until="2026-11-22")
    assert (span.start, span.end) == (date(2026, 11, 17), date(2026, 11, 22))
    week = period_for("UTC", since="7d")
    assert week.end == now().date() and week.days == 8
    with pytest.raises(UsageError):
        period_for("UTC", since="last tuesday")


def test_cli_infers_the_format_from_the_output_file(fixed, tmp_path):
    wl = tmp_path / "acme.toml"
    wl.write_text(TOML, encoding="utf-8")
    base = ["--db", str(fixed[0]), "-w", str(wl), "report", "--week", "2026-W47", "-o"]
    for name, start in (("w.html", "<!DOCTYPE html>"), ("w.md", "# Acme"), ("w.json", "{")):
        result = CliRunner().invoke(app, [*base, str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)
    # An explicit --format wins.
    result = CliRunner().invoke(app, [*base, str(tmp_path / "x.html"), "--format", "md"])
    assert (tmp_path / "x.html").read_text(encoding="utf-8").startswith("# Acme")
