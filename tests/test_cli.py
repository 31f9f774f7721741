"""The command line as a user meets it: help, option placement, errors, report periods."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from ereput.cli import app, hoist_global_options
from ereput.errors import UsageError
from ereput.services.report import period_for

COMMANDS = ["scan", "sources", "mentions", "author", "authors", "report", "demo", "db"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 3


def test_global_options_are_accepted_after_the_command():
    assert hoist_global_options(["scan", "--db", "x.db", "--json"]) == [
        "--db",
        "x.db",
        "scan",
        "--json",
    ]
    assert hoist_global_options(["--db", "x.db", "scan"]) == ["--db", "x.db", "scan"]
    assert hoist_global_options(["mentions", "-w", "w.toml", "--quiet", "--limit", "3"]) == [
        "-w",
        "w.toml",
        "--quiet",
        "mentions",
        "--limit",
        "3",
    ]
    assert hoist_global_options(["author", "--query", "link", "--db=a.db"]) == [
        "--db=a.db",
        "author",
        "--query",
        "link",
    ]


def test_db_path_honours_the_option_in_either_place(tmp_path):
    before = CliRunner().invoke(app, ["--db", str(tmp_path / "a.db"), "db", "path"])
    after = CliRunner().invoke(app, ["db", "path", "--db", str(tmp_path / "a.db")])
    assert before.stdout.strip() == after.stdout.strip() == str(tmp_path / "a.db")


def test_missing_watchlist_folder_is_a_one_line_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "a.db"), "mentions"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "watchlists" in result.stderr


def test_author_actions_and_query_option(tmp_path):
    wl = tmp_path / "w.toml"
    wl.write_text('name = "w"\nsources = []\n[query]\nterms = ["acme"]\n', encoding="utf-8")
    base = ["--db", str(tmp_path / "a.db"), "-w", str(wl)]
    looked = CliRunner().invoke(app, [*base, "author", "--query", "link"])
    assert looked.exit_code == 1 and "no author matches 'link'" in looked.stderr


def test_empty_report_has_every_spec_key(tmp_path):
    wl = tmp_path / "w.toml"
    wl.write_text('name = "w"\nsources = []\n[query]\nterms = ["acme"]\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "--db",
            str(tmp_path / "a.db"),
            "-w",
            str(wl),
            "report",
            "--week",
            "2026-W47",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    for key in (
        "watchlist",
        "period",
        "previous",
        "totals",
        "quadrants",
        "sentiment",
        "daily",
        "top_sources",
        "community",
        "outside",
        "invite_candidates",
        "trolls",
        "ambassadors",
        "top_threads",
    ):
        assert key in r
    assert r["period"] == {"start": "2026-11-16", "end": "2026-11-22", "label": "2026-W47"}
    assert r["previous"]["start"] == "2026-11-09" and r["previous"]["end"] == "2026-11-15"
    assert r["previous"]["quadrants"]["open"] == {"member": 0, "identified": 0, "anonymous": 0}
    assert len(r["daily"]) == 7


def test_report_periods():
    wed = date(2026, 11, 25)
    last = period_for("Europe/Paris", today=wed)
    assert (last.start, last.end, last.label) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        "2026-W47",
    )
    monday = period_for("UTC", today=date(2026, 11, 23))
    assert monday.label == "2026-W47"
    jan = period_for("UTC", week="2027-W01")
    assert (jan.start, jan.end) == (date(2027, 1, 4), date(2027, 1, 10))
    span = period_for("UTC", since="2026-11-01", until="2026-11-03")
    assert span.days == 3 and span.previous().end == date(2026, 10, 31)
    assert span.previous().days == 3
    month = period_for("UTC", month="2026-12")
    assert (month.start, month.end) == (date(2026, 12, 1), date(2026, 12, 31))
    with pytest.raises(UsageError):
        period_for("UTC", week="2026-W60")
    with pytest.raises(UsageError):
        period_for("UTC", since="2026-11-05", until="2026-11-01")


def test_version_alone_prints_it():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ereput ")


def test_the_command_ends_fast_with_all_its_output_and_its_exit_code(tmp_path):
    """`ereput` leaves without the interpreter's teardown (`__main__._exit`): its exit
    code and error message are the ones the command gave, and what it printed to a pipe
    is all there."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    db, wl = tmp_path / "demo.db", root / "watchlists" / "demo.toml"

    def ereput(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ereput", "--db", str(db), "-w", str(wl), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root)

    assert ereput("demo", "--db", str(db)).returncode == 0
    listed = ereput("mentions", "--json", "--limit", "0")
    assert listed.returncode == 0, listed.stderr
    mentions = json.loads(listed.stdout)
    assert len(mentions) == 37
    missing = ereput("report", "--week", "2026-W60")
    assert missing.returncode == 2 and missing.stderr.startswith("ereput: "), missing.stderr
