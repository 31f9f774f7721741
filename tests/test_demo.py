"""`ereput demo`: the whole job offline, as a newcomer first runs it."""

from __future__ import annotations

import io
import json
from importlib import resources

from rich.console import Console
from typer.testing import CliRunner

from conftest import ROOT
from ereput.cli import app
from ereput.render.report import print_text_report


def test_demo_scans_twice_and_prints_the_report(tmp_path):
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "scan 1: 5 sources" in result.stderr and "0 failed" in result.stderr
    assert "scan 2: 0 new; 5 of 5 sources answered 304" in result.stderr
    report = json.loads(result.stdout)
    assert report["watchlist"] == "acme-demo"
    assert report["totals"]["mentions"] > 5 and report["totals"]["previous"] > 0
    grid = report["quadrants"]
    assert grid["community"]["member"] >= 2  # the brand's blog, by declared members
    assert grid["open"]["identified"] >= 3 and grid["open"]["anonymous"] >= 1
    # Julie, community manager, answers on the open social web: an ambassador.
    assert [a["name"] for a in report["ambassadors"]] == ["Julie Marchand"]
    assert report["community"]["by_role"] == {"brand": 1, "community_manager": 1, "mediator": 1}

    # With --db the database stays for exploring, with the shipped demo watchlist.
    wl = ROOT / "watchlists" / "demo.toml"
    listed = CliRunner().invoke(
        app, ["--db", str(db), "-w", str(wl), "mentions", "--json", "--limit", "0"]
    )
    mentions = json.loads(listed.stdout)
    urls = {m["url"] for m in mentions}
    assert "https://blog.example.net/2026/pourquoi-nous-avons-quitte-acme" in urls
    assert not any("acmeville" in u or "coyote" in u for u in urls)  # decoy and exclusion
    kevin = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "author", "kevin dubois"])
    assert kevin.exit_code == 0 and "Kévin Dubois" in kevin.stdout


def test_text_report_fits_80_columns(tmp_path):
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--format", "json"])
    console = Console(width=80, record=True, file=io.StringIO())
    print_text_report(json.loads(result.stdout), console)
    lines = console.export_text().splitlines()
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= 80


def test_shipped_demo_watchlist_is_the_one_the_demo_uses():
    packaged = (resources.files("ereput.demo") / "acme-demo.toml").read_text(encoding="utf-8")
    assert (ROOT / "watchlists" / "demo.toml").read_text(encoding="utf-8") == packaged
