"""Upgrades: a database of every schema version (tests/fixtures/schemas/, written by its
make.py) migrates to the newest schema with its data intact, and then works like a fresh
one: listings, full-text search, author look-ups."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from ereput.store import Store, migrations

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
FIXTURES = sorted(SCHEMAS.glob("*.sqlite"))
NAMES = [m.name for m in migrations._migrations]


def test_a_database_is_kept_for_each_released_schema_from_the_first() -> None:
    kept = [f.stem for f in FIXTURES]
    assert kept[:3] == ["0001_initial", "0002_lookup_indexes", "0003_robots"]
    assert kept == NAMES[: len(kept)]  # no gap: each released version has its database


def rows(conn: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    cols = ", ".join(f"[{c}]" for c in columns)
    return sorted(conn.execute(f"SELECT {cols} FROM [{table}]").fetchall(), key=repr)


def user_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Tables that hold data (not FTS shadow tables, not the migrations record)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
            "'CREATE VIRTUAL TABLE%' AND name NOT LIKE '%fts%' AND name NOT LIKE '\\_%' ESCAPE '\\'"
        )
    ]
    return {t: [c[1] for c in conn.execute(f"PRAGMA table_info([{t}])")] for t in names}


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_each_schema_version_migrates_to_the_newest_with_its_data_intact(
    fixture: Path, tmp_path: Path
) -> None:
    db = tmp_path / "old.db"
    shutil.copy(fixture, db)
    with sqlite3.connect(db) as old:
        before = {t: (cols, rows(old, t, cols)) for t, cols in user_tables(old).items()}
    assert sum(len(r) for _, r in before.values()) > 10  # the fixture holds data

    store = Store.open(db)
    store.close()

    with sqlite3.connect(db) as new:
        applied = [r[0] for r in new.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        assert applied == NAMES
        assert new.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert new.execute("PRAGMA foreign_key_check").fetchall() == []
        for table, (columns, old_rows) in before.items():
            assert rows(new, table, columns) == old_rows, table
        new.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('integrity-check')")
        # Scans on a large database spend less time merging the index's segments.
        assert dict(new.execute("SELECT k, v FROM mentions_fts_config"))["automerge"] == 16
        upgraded = sorted(new.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    with sqlite3.connect(fresh) as conn:
        assert upgraded == sorted(conn.execute("SELECT type, name, sql FROM sqlite_master"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_an_upgraded_database_answers_like_a_fresh_one(fixture: Path, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(fixture, db)
    wl = tmp_path / "acme.toml"
    wl.write_text('name = "acme"\nsources = []\n[query]\nterms = ["acme"]\n', encoding="utf-8")

    def cli(*args: str) -> Any:
        result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    mentions = cli("mentions", "--json", "--limit", "0")
    assert [m["id"] for m in mentions] == ["m2", "m1", "m3"]  # newest first
    assert mentions[0]["text"] == "Robert'); DROP TABLE mentions;--"  # stored verbatim
    assert mentions[1]["author"] == {
        "name": "Julie Marchand",
        "person_id": "p-julie",
        "class": "member",
        "role": "community_manager",
    }
    assert [m["id"] for m in cli("mentions", "--search", "panne", "--json")] == ["m1"]
    [seb] = cli("author", "sebastien farcis", "--json")  # accent-insensitive, by name
    assert seb["person_id"] == "p-seb" and seb["mentions"] == 1
    sources = {s["source"]: s for s in cli("sources", "--json")}
    assert sources["alerts"]["consecutive_failures"] == 2
    assert sources["forum"]["items"] == 2


def test_names_with_invisible_characters_are_folded_again_and_found(tmp_path: Path) -> None:
    """0007: `fold` drops soft hyphens and zero-width characters since; a name stored with
    one (folded with it, by the older version) is folded again, and `author` finds it."""
    db = tmp_path / "old.db"
    shutil.copy(SCHEMAS / "0006_fts_automerge.sqlite", db)
    with sqlite3.connect(db) as old:
        old.execute(
            "UPDATE accounts SET name = ?, name_folded = ? WHERE id = 'a-seb'",
            ("Sé\u00adbas\u200btien Farcis", "se\u00adbas\u200btien farcis"),
        )
    wl = tmp_path / "acme.toml"
    wl.write_text('name = "acme"\nsources = []\n[query]\nterms = ["acme"]\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--db", str(db), "-w", str(wl), "author", "sebastien farcis", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [p["person_id"] for p in json.loads(result.stdout)] == ["p-seb"]
    with sqlite3.connect(db) as new:
        folded = new.execute("SELECT name_folded FROM accounts WHERE id = 'a-seb'").fetchone()
    assert folded == ("sebastien farcis",)
