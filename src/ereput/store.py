"""The SQLite store: schema and migrations, the scan lock, writing a source's results in one
transaction, and the read queries behind `mentions`, `sources`, `author` and `report`.

Plain SQLite through sqlite-utils, readable with `sqlite-utils` and Datasette. Timestamps
are ISO-8601 UTC text (see `dates`), so ranges use plain indexes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ereput.dates import utc_iso
from ereput.errors import LockedError, StoreError
from ereput.fetchers.base import SourceState
from ereput.identity import account_key, author_class, components, new_person_id, short_hash
from ereput.models import Account, Identifier, Item, Member, Mention, Watchlist
from ereput.text import INVISIBLE, fold

migrations = Migrations("ereput")


def _run(db: Database, script: str) -> None:
    # executescript() would COMMIT the migration's transaction: run statements one by one.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_initial")
def _m0001(db: Database) -> None:
    _run(
        db,
        """
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    watchlist TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    cursor TEXT,
    last_scan TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    retry_after TEXT
);
CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    platform TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    name_folded TEXT NOT NULL DEFAULT '',
    profile_url TEXT,
    n_identifiers INTEGER NOT NULL DEFAULT 0,
    person_id TEXT NOT NULL REFERENCES persons(id)
);
CREATE INDEX accounts_person ON accounts(person_id);
CREATE INDEX accounts_name_folded ON accounts(name_folded);
CREATE TABLE identifiers (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (kind, value, account_id)
) WITHOUT ROWID;
CREATE INDEX identifiers_account ON identifiers(account_id);
CREATE TABLE members (
    watchlist TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (watchlist, person_id)
);
CREATE TABLE identity_decisions (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('link', 'unlink')),
    at TEXT NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE mentions (
    id TEXT PRIMARY KEY,
    watchlist TEXT NOT NULL,
    source TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    url TEXT NOT NULL,
    entry_id TEXT,
    content_hash TEXT,
    thread_url TEXT,
    parent_url TEXT,
    space TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL,
    undated INTEGER NOT NULL DEFAULT 0,
    fetched TEXT NOT NULL,
    updated TEXT,
    language TEXT,
    sentiment REAL,
    matched TEXT NOT NULL DEFAULT '[]',
    context INTEGER NOT NULL DEFAULT 0,
    account_id TEXT REFERENCES accounts(id),
    author_name TEXT NOT NULL DEFAULT '',
    person_id TEXT REFERENCES persons(id),
    author_class TEXT NOT NULL DEFAULT 'anonymous',
    author_role TEXT
);
CREATE INDEX mentions_watchlist_published ON mentions(watchlist, published);
CREATE INDEX mentions_person_published ON mentions(person_id, published);
CREATE INDEX mentions_source ON mentions(watchlist, source, entry_id);
CREATE INDEX mentions_content_hash ON mentions(watchlist, content_hash);
CREATE INDEX mentions_thread ON mentions(watchlist, thread_url)
""",
    )
    db.table("mentions").enable_fts(
        ["title", "text"], tokenize="unicode61 remove_diacritics 2", create_triggers=True
    )


@migrations(name="0002_lookup_indexes")
def _m0002(db: Database) -> None:
    """Indexes for look-ups at scale (a million mentions).

    - a person's mentions within a watchlist: (person_id, watchlist, published) replaces
      (person_id, published), which SQLite passed over for an index on watchlist alone;
    - accounts by profile URL (`author URL` when the URL is no identifier);
    - the words of account names, with a 3-letter prefix index, so that a fuzzy name
      look-up scores the names sharing a word beginning with a query word, not them all.
    """
    _run(
        db,
        """
DROP INDEX mentions_person_published;
CREATE INDEX mentions_person ON mentions(person_id, watchlist, published);
CREATE INDEX accounts_profile_url ON accounts(profile_url);
CREATE VIRTUAL TABLE accounts_fts USING fts5(
    name_folded, content='accounts', tokenize='unicode61 remove_diacritics 2', prefix='3'
);
INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild')
""",
    )
    # Trigger bodies hold ";\n": one statement each.
    db.execute(
        "CREATE TRIGGER accounts_ai AFTER INSERT ON accounts BEGIN "
        "INSERT INTO accounts_fts (rowid, name_folded) VALUES (new.rowid, new.name_folded); END"
    )
    db.execute(
        "CREATE TRIGGER accounts_ad AFTER DELETE ON accounts BEGIN "
        "INSERT INTO accounts_fts (accounts_fts, rowid, name_folded) "
        "VALUES ('delete', old.rowid, old.name_folded); END"
    )
    db.execute(
        "CREATE TRIGGER accounts_au AFTER UPDATE OF name_folded ON accounts BEGIN "
        "INSERT INTO accounts_fts (accounts_fts, rowid, name_folded) "
        "VALUES ('delete', old.rowid, old.name_folded); "
        "INSERT INTO accounts_fts (rowid, name_folded) VALUES (new.rowid, new.name_folded); END"
    )


@migrations(name="0003_robots")
def _m0003(db: Database) -> None:
    """robots.txt texts kept up to 24 h across scans (RFC 9309 §2.4): an hourly cron scan
    does not ask every host for it again."""
    db.execute(
        "CREATE TABLE robots (origin TEXT PRIMARY KEY, fetched REAL NOT NULL, body TEXT NOT NULL)"
    )


@migrations(name="0004_identity")
def _m0004(db: Database) -> None:
    """Identity decisions kept across scans, and the right to be forgotten.

    - `forgotten`: one-way hashes of the account keys and identifiers of erased persons, so
      that a later scan does not collect them again (nothing readable is kept);
    - replies by their parent, for a person's reach ("replies received").
    """
    _run(
        db,
        """
CREATE TABLE forgotten (hash TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX mentions_parent ON mentions(watchlist, parent_url)
""",
    )


@migrations(name="0005_alerts")
def _m0005(db: Database) -> None:
    """The alert outbox (`services/alerts.py`): one row per alert and channel, queued in the
    transaction that stores the mention, marked sent only once delivered.

    `key` is `mention:<mention id>` or `spike:<space>:<local date>`; the unique key makes a
    mention (or a spike day) alert at most once per channel.
    """
    _run(
        db,
        """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    watchlist TEXT NOT NULL,
    key TEXT NOT NULL,
    channel TEXT NOT NULL,
    rules TEXT NOT NULL,
    mention_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt TEXT,
    sent_at TEXT,
    UNIQUE (watchlist, key, channel)
);
CREATE INDEX alerts_pending ON alerts(watchlist, channel, id) WHERE sent_at IS NULL
""",
    )


@migrations(name="0006_fts_automerge")
def _m0006(db: Database) -> None:
    """The mentions' full-text index merges its segments 16 at a time instead of 4.

    Each scan transaction writes a small segment, and FTS5 merges them level by level, a
    little at each write. With 4, a database of a million mentions spent most of a scan in
    that merging (2,500 new mentions in 50 transactions: 2.4 s of inserts and commits,
    against 0.7 s without the index); with 16, 1.1 s, and 600 such transactions took 9.8 s
    instead of 20 s. Searches stay fast: 22 segments after those 600 (20 with 4), 0.3 ms a
    query. (8 left 251 segments and 2 ms queries.)
    """
    # A level's segments are merged once this many are there (FTS5's default 4, max 64).
    db.execute("INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('automerge', 16)")


def _content_hash(item: Item) -> str | None:
    """Syndicated copies share their words, not their URL; short texts prove nothing."""
    text = fold(item.text)
    if len(text) < 120:
        return None
    return short_hash(fold(item.title), text, size=32)


@migrations(name="0007_fold_invisible_characters")
def _m0007(db: Database) -> None:
    """`text.fold` drops invisible characters (a soft hyphen, zero-width ones) since this
    version: the names that hold one are folded again, for `ereput author` to find them.
    Their account keys stay as they were made; a name-only account seen again under such a
    name now keys the account of the visible name."""
    where = " OR ".join("instr(name, ?) > 0" for _ in INVISIBLE)
    rows = db.execute(f"SELECT id, name FROM accounts WHERE {where}", INVISIBLE).fetchall()
    for account_id, name in rows:
        db.execute("UPDATE accounts SET name_folded = ? WHERE id = ?", (fold(name), account_id))


#: How much of the file a reading command maps (SQLite caps it at its own build limit).
MMAP_BYTES = 2**31

MENTION_COLUMNS = (
    "id, watchlist, url, thread_url, parent_url, source, source_kind, space, title, text, "
    "published, fetched, undated, language, sentiment, matched, context, author_name, "
    "person_id, author_class, author_role, account_id"
)


class SavedState(NamedTuple):
    """A source's validators, cursor (JSON) and Retry-After time as stored: compact, for
    the scan to hold every source's until it reads it."""

    etag: str | None
    last_modified: str | None
    cursor: str | None
    retry_after: str | None

    def state(self) -> SourceState:
        return SourceState(self.etag, self.last_modified, json.loads(self.cursor or "{}"))


@dataclass
class SaveCounts:
    new: int = 0
    updated: int = 0
    new_ids: list[str] = field(default_factory=list)


class Store:
    """One ereput database. Open it with `Store.open(path)`."""

    def __init__(self, db: Database, path: Path | None) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.path = path
        self._lock_file: Any = None
        # Checked on every author only once someone was forgotten.
        self._forgotten_any = (
            self.conn.execute("SELECT 1 FROM forgotten LIMIT 1").fetchone() is not None
        )

    # --- opening, migrations, lock -------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, reading: bool = False) -> Store:
        """Open (creating and migrating) the database; `reading` for commands that read
        much and write nothing: their pages are then mapped rather than copied (a report on
        a million mentions reads ~50,000 rows scattered over the file: 20–30 % faster). Not
        for scans, whose process memory would grow by every page they touch."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            db = Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            if reading:
                db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            migrations.apply(db)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the database {path}: {e}") from e
        return cls(db, path)

    @classmethod
    def memory(cls) -> Store:
        db = Database(memory=True)
        migrations.apply(db)
        return cls(db, None)

    def close(self) -> None:
        self.unlock()
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self) -> None:
        """Take the scan lock, or raise LockedError at once (cron overlap).

        flock() is released by the kernel when its process dies: a killed scan never
        leaves a stale lock behind.
        """
        if self.path is None or self._lock_file is not None:
            return
        f = open(f"{self.path}.lock", "a+")  # noqa: SIM115 - held until unlock()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise LockedError(f"another scan is running on {self.path}; exiting") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # --- sources -------------------------------------------------------------------------

    @staticmethod
    def source_id(watchlist: str, source: str) -> str:
        return f"{watchlist}/{source}"

    def sync_sources(self, wl: Watchlist) -> None:
        with self.transaction():
            for s in wl.sources:
                self.conn.execute(
                    "INSERT INTO sources (id, watchlist, name, kind, url) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, url = excluded.url, "
                    "etag = CASE WHEN sources.url = excluded.url THEN etag END, "
                    "last_modified = CASE WHEN sources.url = excluded.url THEN last_modified END",
                    (self.source_id(wl.name, s.name), wl.name, s.name, s.kind, s.url),
                )

    def source_states(self, watchlist: str) -> dict[str, SavedState]:
        """What the watchlist's sources remember, by source name: only those that remember
        something (a first scan of 10,000 sources held 4.5 MB of empty states)."""
        return {
            row[0]: SavedState(*row[1:])
            for row in self.conn.execute(
                "SELECT name, etag, last_modified, cursor, retry_after FROM sources "
                "WHERE watchlist = ? AND (etag IS NOT NULL OR last_modified IS NOT NULL "
                "OR cursor IS NOT NULL OR retry_after IS NOT NULL)",
                (watchlist,),
            )
        }

    def record_success(self, watchlist: str, source: str, state: SourceState, at: datetime) -> None:
        self.record_successes([(watchlist, source, state, at)])

    def record_successes(self, done: Sequence[tuple[str, str, SourceState, datetime]]) -> None:
        """Sources read without error: their new validators and cursors, and when."""
        self.conn.executemany(
            "UPDATE sources SET etag = ?, last_modified = ?, cursor = ?, last_scan = ?, "
            "last_success = ?, consecutive_failures = 0, retry_after = NULL WHERE id = ?",
            [
                (
                    state.etag,
                    state.last_modified,
                    json.dumps(state.cursor) if state.cursor else None,
                    utc_iso(at),
                    utc_iso(at),
                    self.source_id(watchlist, source),
                )
                for watchlist, source, state, at in done
            ],
        )

    def record_failure(
        self, watchlist: str, source: str, error: str, at: datetime, retry_after: str | None = None
    ) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE sources SET last_scan = ?, last_error = ?, last_error_at = ?, "
                "consecutive_failures = consecutive_failures + 1, retry_after = ? WHERE id = ?",
                (utc_iso(at), error, utc_iso(at), retry_after, self.source_id(watchlist, source)),
            )

    def sources_health(self, watchlists: Sequence[str]) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(watchlists))
        rows = self.conn.execute(
            f"SELECT s.watchlist, s.name, s.kind, s.url, s.last_success, s.last_error, "
            f"s.last_error_at, s.consecutive_failures, s.retry_after, "
            f"(SELECT count(*) FROM mentions m WHERE m.watchlist = s.watchlist "
            f"AND m.source = s.name) FROM sources s WHERE s.watchlist IN ({marks}) "
            f"ORDER BY s.watchlist, s.name",
            list(watchlists),
        ).fetchall()
        keys = (
            "watchlist",
            "source",
            "kind",
            "url",
            "last_success",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "retry_after",
            "items",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # --- members and accounts ------------------------------------------------------------

    def sync_members(self, wl: Watchlist) -> None:
        """Give each declared member one person, holding their declared identifiers.

        Accounts already seen with a declared identifier join the member's person; the
        mentions of the watchlist get their class again when membership changed.
        """
        signature = short_hash(
            *(f"{m.name}|{m.role}|{m.identifiers}" for m in wl.community.members), size=32
        )
        meta_key = f"members:{wl.name}"
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (meta_key,)).fetchone()
        if row and row[0] == signature:
            return
        with self.transaction():
            self.conn.execute("DELETE FROM members WHERE watchlist = ?", (wl.name,))
            for member in wl.community.members:
                pid = self._member_person(wl.name, member)
                self.conn.execute(
                    "INSERT OR REPLACE INTO members (watchlist, person_id, name, role) "
                    "VALUES (?, ?, ?, ?)",
                    (wl.name, pid, member.name, member.role),
                )
            self.conn.execute(
                "UPDATE mentions SET author_class = CASE "
                "WHEN person_id IN (SELECT person_id FROM members WHERE watchlist = ?1) "
                "THEN 'member' "
                "WHEN (SELECT n_identifiers FROM accounts a WHERE a.id = account_id) > 0 "
                "THEN 'identified' ELSE 'anonymous' END, "
                "author_role = (SELECT role FROM members WHERE watchlist = ?1 "
                "AND members.person_id = mentions.person_id) WHERE watchlist = ?1",
                (wl.name,),
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (meta_key, signature)
            )

    def _member_person(self, watchlist: str, member: Member) -> str:
        key = f"member:{watchlist}:{member.name}"
        row = self.conn.execute(
            "SELECT id, person_id FROM accounts WHERE key = ?", (key,)
        ).fetchone()
        if row:
            account_id, pid = row
        else:
            account_id, pid = short_hash(key, size=32), new_person_id(key)
            self._ensure_person(pid)
            self.conn.execute(
                "INSERT INTO accounts (id, key, site, platform, name, name_folded, "
                "n_identifiers, person_id) VALUES (?, ?, '', 'watchlist', ?, ?, ?, ?)",
                (account_id, key, member.name, fold(member.name), len(member.identifiers), pid),
            )
        for ident in member.identifiers:
            # Accounts already seen with a declared identifier are this member's.
            for other in self._persons_with(ident, exclude=pid):
                self._merge(pid, other)
            self.conn.execute(
                "INSERT OR IGNORE INTO identifiers (kind, value, account_id) VALUES (?, ?, ?)",
                (ident.kind, ident.value, account_id),
            )
        return pid

    # --- identity: persons as groups of accounts (SPEC §2) --------------------------------

    def _persons_with(self, ident: Identifier, exclude: str | None = None) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT a.person_id FROM identifiers i JOIN accounts a "
                "ON a.id = i.account_id WHERE i.kind = ? AND i.value = ? AND a.person_id IS NOT ?",
                (ident.kind, ident.value, exclude),
            )
        ]

    def _survivor(self, pids: Sequence[str]) -> str:
        """Which person id a merge keeps: a declared member's, else the oldest, so that
        `person_id` stays stable across scans."""
        marks = ",".join("?" * len(pids))
        row = self.conn.execute(
            f"SELECT person_id FROM members WHERE person_id IN ({marks}) "
            f"ORDER BY person_id LIMIT 1",
            list(pids),
        ).fetchone()
        if row is None:
            row = self.conn.execute(
                f"SELECT id FROM persons WHERE id IN ({marks}) ORDER BY created, id LIMIT 1",
                list(pids),
            ).fetchone()
        return row[0] if row else pids[0]

    def _unlinked(self, p1: str, p2: str) -> bool:
        """Whether a manual unlink keeps these two persons apart."""
        return (
            self.conn.execute(
                "SELECT 1 FROM identity_decisions d JOIN accounts x ON x.id = d.a "
                "JOIN accounts y ON y.id = d.b WHERE d.decision = 'unlink' AND "
                "((x.person_id = ?1 AND y.person_id = ?2) OR (x.person_id = ?2 AND "
                "y.person_id = ?1)) LIMIT 1",
                (p1, p2),
            ).fetchone()
            is not None
        )

    def _merge(self, keep: str, other: str) -> bool:
        """Move `other`'s accounts and mentions into `keep`, unless a manual unlink forbids it."""
        if keep == other or self._unlinked(keep, other):
            return False
        self._move_person(other, keep)
        self.conn.execute("DELETE FROM persons WHERE id = ?", (other,))
        self._reclass(keep)
        return True

    def _move_person(self, old: str, new: str) -> None:
        self.conn.execute("UPDATE accounts SET person_id = ? WHERE person_id = ?", (new, old))
        self.conn.execute("UPDATE mentions SET person_id = ? WHERE person_id = ?", (new, old))
        self.conn.execute(
            "UPDATE OR REPLACE members SET person_id = ? WHERE person_id = ?", (new, old)
        )

    def _reclass(self, pid: str) -> None:
        """Give a person's mentions their class and role again (after a merge or a split):
        member where the person is a declared member of the mention's watchlist, else
        identified when any of the person's accounts carries an identifier."""
        self.conn.execute(
            "UPDATE mentions SET author_role = (SELECT role FROM members m WHERE "
            "m.watchlist = mentions.watchlist AND m.person_id = ?1), author_class = CASE "
            "WHEN EXISTS (SELECT 1 FROM members m WHERE m.watchlist = mentions.watchlist AND "
            "m.person_id = ?1) THEN 'member' WHEN EXISTS (SELECT 1 FROM accounts a WHERE "
            "a.person_id = ?1 AND a.n_identifiers > 0 AND a.platform != 'watchlist') "
            "THEN 'identified' ELSE 'anonymous' END WHERE person_id = ?1",
            (pid,),
        )

    def _ensure_person(self, pid: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO persons (id, created) "
            "VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ'))",
            (pid,),
        )

    def _account(self, account: Account, item_url: str) -> tuple[str, str, int] | None:
        """The (account id, person id, identifiers of the person) of an author, created if
        new, joined to the persons its identifiers point to; None if the person was forgotten.
        """
        key = account_key(account, item_url)
        if self._forgotten_any and self._is_forgotten(key, account.identifiers):
            return None
        row = self.conn.execute(
            "SELECT id, person_id, n_identifiers FROM accounts WHERE key = ?", (key,)
        ).fetchone()
        if row:
            account_id, pid, n = row
            if account.name:
                self.conn.execute(
                    "UPDATE accounts SET name = ?, name_folded = ? WHERE id = ? AND name != ?",
                    (account.name, fold(account.name), account_id, account.name),
                )
            if len(account.identifiers) > n:  # the page now shows more: they join too
                pid, n = self._add_identifiers(account_id, pid, account.identifiers)
            elif n == 0:  # an anonymous account manually linked to an identified person
                n = self.conn.execute(
                    "SELECT max(n_identifiers) FROM accounts WHERE person_id = ? "
                    "AND platform != 'watchlist'",
                    (pid,),
                ).fetchone()[0]
            return account_id, pid, n
        account_id = short_hash(key, size=32)
        hits = list(
            dict.fromkeys(p for ident in account.identifiers for p in self._persons_with(ident))
        )
        pid = self._survivor(hits) if hits else new_person_id(key)
        if not hits:
            self._ensure_person(pid)
        self.conn.execute(
            "INSERT INTO accounts (id, key, site, platform, name, name_folded, profile_url, "
            "n_identifiers, person_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account_id,
                key,
                account.site,
                account.platform,
                account.name,
                fold(account.name),
                account.profile_url,
                len(account.identifiers),
                pid,
            ),
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO identifiers (kind, value, account_id) VALUES (?, ?, ?)",
            [(i.kind, i.value, account_id) for i in account.identifiers],
        )
        for other in hits:  # this account bridges persons: they are one
            self._merge(pid, other)
        return account_id, pid, len(account.identifiers)

    def _add_identifiers(
        self, account_id: str, pid: str, identifiers: Sequence[Identifier]
    ) -> tuple[str, int]:
        known = set(
            self.conn.execute(
                "SELECT kind, value FROM identifiers WHERE account_id = ?", (account_id,)
            ).fetchall()
        )
        fresh = [i for i in identifiers if (i.kind, i.value) not in known]
        hits = list(dict.fromkeys(p for i in fresh for p in self._persons_with(i, exclude=pid)))
        self.conn.executemany(
            "INSERT OR IGNORE INTO identifiers (kind, value, account_id) VALUES (?, ?, ?)",
            [(i.kind, i.value, account_id) for i in fresh],
        )
        n = len(known) + len(fresh)
        self.conn.execute("UPDATE accounts SET n_identifiers = ? WHERE id = ?", (n, account_id))
        if hits:
            keep = self._survivor([pid, *hits])
            for other in [pid, *hits]:
                self._merge(keep, other)
            pid = self.conn.execute(
                "SELECT person_id FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()[0]
        self._reclass(pid)
        return pid, n

    # --- manual identity decisions, forgetting ---------------------------------------------

    def person_accounts(self, pid: str) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM accounts WHERE person_id = ? ORDER BY id", (pid,)
            )
        ]

    def person_of_account(self, account_id: str) -> str:
        return str(
            self.conn.execute(
                "SELECT person_id FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()[0]
        )

    def _decide(self, a: str, b: str, decision: str) -> None:
        lo, hi = sorted((a, b))
        self.conn.execute(
            "INSERT OR REPLACE INTO identity_decisions (a, b, decision, at) "
            "VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ'))",
            (lo, hi, decision),
        )

    def link(self, a_accounts: Sequence[str], b_accounts: Sequence[str]) -> str:
        """Make the persons of these accounts one (a manual link, kept across scans and
        stronger than an earlier unlink between them). Returns the person id kept."""
        with self.transaction():
            for a in a_accounts:
                for b in b_accounts:
                    if a != b:
                        self.conn.execute(
                            "DELETE FROM identity_decisions WHERE a = ? AND b = ?", sorted((a, b))
                        )
            self._decide(a_accounts[0], b_accounts[0], "link")
            pids = list(
                dict.fromkeys(self.person_of_account(x) for x in (*a_accounts, *b_accounts))
            )
            keep = self._survivor(pids)
            for other in pids:
                self._merge(keep, other)
            self._reclass(keep)
            return keep

    def unlink(self, a_accounts: Sequence[str], b_accounts: Sequence[str]) -> list[str]:
        """Keep these accounts in different persons from now on (a manual unlink, kept
        across scans); split their person if they share one. Returns the persons now."""
        with self.transaction():
            for a in a_accounts:
                for b in b_accounts:
                    if a != b:
                        self._decide(a, b, "unlink")
            pids = list(
                dict.fromkeys(self.person_of_account(x) for x in (*a_accounts, *b_accounts))
            )
            for pid in pids:
                self._resolve(pid)
            return list(
                dict.fromkeys(self.person_of_account(x) for x in (*a_accounts, *b_accounts))
            )

    def _resolve(self, pid: str) -> None:
        """Group a person's accounts again from the evidence (manual links, shared
        identifiers) under the manual unlinks, and split it where they now fall apart. The
        group holding the member declaration, else the largest, keeps the person id."""
        accounts = self.person_accounts(pid)
        marks = ",".join("?" * len(accounts))
        decisions = self.conn.execute(
            f"SELECT a, b, decision FROM identity_decisions WHERE a IN ({marks}) "
            f"AND b IN ({marks})",
            [*accounts, *accounts],
        ).fetchall()
        links = [(a, b) for a, b, d in decisions if d == "link"]
        cannot = [(a, b) for a, b, d in decisions if d == "unlink"]
        by_ident: dict[tuple[str, str], list[str]] = {}
        for kind, value, account_id in self.conn.execute(
            f"SELECT kind, value, account_id FROM identifiers WHERE account_id IN ({marks}) "
            f"ORDER BY kind, value, account_id",
            accounts,
        ):
            by_ident.setdefault((kind, value), []).append(account_id)
        for sharing in by_ident.values():
            links.extend(itertools.pairwise(sharing))
        groups = components(accounts, links, cannot=cannot)
        if len(groups) == 1:
            return
        member_accounts = {
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM accounts WHERE id IN ({marks}) AND platform = 'watchlist'",
                accounts,
            )
        }
        keep = min(groups, key=lambda g: (not g & member_accounts, -len(g), min(g)))
        for group in groups:
            if group is keep:
                continue
            new_pid = new_person_id("split:" + min(group))
            self._ensure_person(new_pid)
            ids = sorted(group)
            gmarks = ",".join("?" * len(ids))
            self.conn.execute(
                f"UPDATE accounts SET person_id = ? WHERE id IN ({gmarks})", [new_pid, *ids]
            )
            self.conn.execute(
                f"UPDATE mentions SET person_id = ? WHERE person_id = ? AND account_id IN "
                f"({gmarks})",
                [new_pid, pid, *ids],
            )
            self._reclass(new_pid)
        self._reclass(pid)

    @staticmethod
    def _forget_hash(text: str) -> str:
        return hashlib.sha256(("ereput-forgotten\x1f" + text).encode()).hexdigest()

    def _is_forgotten(self, key: str, identifiers: Sequence[Identifier]) -> bool:
        hashes = [self._forget_hash("key:" + key)]
        hashes += [self._forget_hash(f"id:{i.kind}:{i.value}") for i in identifiers]
        marks = ",".join("?" * len(hashes))
        return (
            self.conn.execute(
                f"SELECT 1 FROM forgotten WHERE hash IN ({marks}) LIMIT 1", hashes
            ).fetchone()
            is not None
        )

    def forget(self, pid: str) -> int:
        """Erase a person: their mentions, accounts, identifiers and decisions. One-way
        hashes of their account keys and identifiers are kept so that no later scan collects
        them again. Returns the number of mentions erased."""
        with self.transaction():
            self.conn.execute("PRAGMA secure_delete = ON")  # no readable copy in free pages
            accounts = self.conn.execute(
                "SELECT id, key FROM accounts WHERE person_id = ?", (pid,)
            ).fetchall()
            ids = [a[0] for a in accounts]
            marks = ",".join("?" * len(ids))
            hashes = {self._forget_hash("key:" + key) for _, key in accounts}
            for kind, value in self.conn.execute(
                f"SELECT kind, value FROM identifiers WHERE account_id IN ({marks})", ids
            ):
                hashes.add(self._forget_hash(f"id:{kind}:{value}"))
            self.conn.executemany(
                "INSERT OR IGNORE INTO forgotten (hash, at) "
                "VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ'))",
                [(h,) for h in sorted(hashes)],
            )
            erased = self.conn.execute("DELETE FROM mentions WHERE person_id = ?", (pid,)).rowcount
            self.conn.execute(f"DELETE FROM identifiers WHERE account_id IN ({marks})", ids)
            self.conn.execute(
                f"DELETE FROM identity_decisions WHERE a IN ({marks}) OR b IN ({marks})",
                [*ids, *ids],
            )
            self.conn.execute("DELETE FROM accounts WHERE person_id = ?", (pid,))
            self.conn.execute("DELETE FROM members WHERE person_id = ?", (pid,))
            self.conn.execute("DELETE FROM persons WHERE id = ?", (pid,))
        self.conn.execute("PRAGMA secure_delete = OFF")
        self._forgotten_any = True
        return erased

    # --- mentions ------------------------------------------------------------------------

    def stored_threads(self, watchlist: str, urls: set[str]) -> set[str]:
        """Which of these thread URLs are stored as matching mentions (replies join them)."""
        found: set[str] = set()
        # A mention's id is the hash of its watchlist and URL: look them up by primary key.
        ids = [self.mention_id(watchlist, u) for u in urls]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT url FROM mentions WHERE id IN ({marks}) AND watchlist = ? "
                    f"AND context = 0",
                    [*chunk, watchlist],
                )
                if r[0] in urls
            )
        return found

    @staticmethod
    def mention_id(watchlist: str, url: str) -> str:
        """The id of the mention of `url` (canonical) in `watchlist`."""
        return short_hash(watchlist, url, size=32)

    def save_mentions(self, mentions: Sequence[Mention]) -> SaveCounts:
        """Store a batch (call inside `transaction()`), de-duplicating in layers: the
        source's entry id, then the canonical URL, then the content hash of syndicated copies.
        """
        counts = SaveCounts()
        members: dict[str, dict[str, str]] = {}
        for m in mentions:
            if m.watchlist not in members:
                members[m.watchlist] = dict(
                    self.conn.execute(
                        "SELECT person_id, role FROM members WHERE watchlist = ?", (m.watchlist,)
                    ).fetchall()
                )
            self._save_one(m, members[m.watchlist], counts)
        return counts

    def _save_one(self, m: Mention, roles: dict[str, str], counts: SaveCounts) -> None:
        item = m.item
        existing = None
        if item.entry_id:
            existing = self.conn.execute(
                "SELECT id, source, title, text, author_name FROM mentions "
                "WHERE watchlist = ? AND source = ? AND entry_id = ?",
                (m.watchlist, m.source, item.entry_id),
            ).fetchone()
        mention_id = self.mention_id(m.watchlist, m.url)
        if existing is None:
            existing = self.conn.execute(
                "SELECT id, source, title, text, author_name FROM mentions WHERE id = ?",
                (mention_id,),
            ).fetchone()
        content_hash = _content_hash(m.item)
        if existing is None and content_hash:
            existing = self.conn.execute(
                "SELECT id, source, title, text, author_name FROM mentions "
                "WHERE watchlist = ? AND content_hash = ? LIMIT 1",
                (m.watchlist, content_hash),
            ).fetchone()

        account_id = person_id = None
        n_identifiers = 0
        author_name = item.author.name if item.author else ""
        if item.author is not None:
            found = self._account(item.author, m.url)
            if found is None:  # a forgotten person: never collected again
                return
            account_id, person_id, n_identifiers = found
        role = roles.get(person_id or "")
        klass = author_class(role is not None, n_identifiers)

        if existing is not None:
            old_id, old_source, old_title, old_text, old_author = existing
            same_source = old_source == m.source
            # An edit from the same source replaces; another source's copy only enriches.
            title = item.title if same_source or len(item.title) > len(old_title) else old_title
            text = item.text if same_source or len(item.text) > len(old_text) else old_text
            if not same_source and old_author and not author_name:
                return
            if (title, text, author_name or old_author) == (old_title, old_text, old_author):
                return
            # Language and sentiment were measured on the new text: kept only with it.
            new_text = int(text == item.text)
            self.conn.execute(
                "UPDATE mentions SET title = ?, text = ?, content_hash = ?, updated = ?, "
                "account_id = coalesce(?, account_id), author_name = ?, "
                "person_id = coalesce(?, person_id), author_class = CASE WHEN ? IS NULL "
                "THEN author_class ELSE ? END, author_role = CASE WHEN ? IS NULL "
                "THEN author_role ELSE ? END, "
                "language = CASE WHEN ? THEN coalesce(?, language) ELSE language END, "
                "sentiment = CASE WHEN ? THEN ? ELSE sentiment END WHERE id = ?",
                (
                    title,
                    text,
                    content_hash,
                    utc_iso(m.fetched),
                    account_id,
                    author_name or old_author,
                    person_id,
                    account_id,
                    klass.value,
                    account_id,
                    role,
                    new_text,
                    m.language,
                    new_text,
                    m.sentiment,
                    old_id,
                ),
            )
            counts.updated += 1
            return

        self.conn.execute(
            f"INSERT INTO mentions ({MENTION_COLUMNS}, entry_id, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mention_id,
                m.watchlist,
                m.url,
                item.thread_url or m.url,
                item.parent_url,
                m.source,
                m.source_kind,
                m.space.value,
                item.title,
                item.text,
                utc_iso(m.published),
                utc_iso(m.fetched),
                int(m.undated),
                m.language or item.language,
                m.sentiment,
                json.dumps(list(m.matched), ensure_ascii=False),
                int(not m.matched),
                author_name,
                person_id,
                klass.value,
                role,
                account_id,
                item.entry_id,
                content_hash,
            ),
        )
        counts.new += 1
        counts.new_ids.append(mention_id)

    def alerts_pending(self) -> bool:
        """Whether any alert waits to be sent (of any watchlist, to any channel)."""
        row = self.conn.execute("SELECT 1 FROM alerts WHERE sent_at IS NULL LIMIT 1").fetchone()
        return row is not None

    def robots(self, max_age: float) -> dict[str, tuple[float, str]]:
        """robots.txt texts fetched less than `max_age` seconds ago, by origin."""
        rows = self.conn.execute(
            "SELECT origin, fetched, body FROM robots WHERE fetched > ?", (time.time() - max_age,)
        ).fetchall()
        return {origin: (fetched, body) for origin, fetched, body in rows}

    def save_robots(self, fetched: dict[str, tuple[float, str]]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO robots (origin, fetched, body) VALUES (?, ?, ?)",
                [(origin, at, body) for origin, (at, body) in fetched.items()],
            )

    def purge_older_than(self, watchlist: str, cutoff: datetime) -> int:
        """Delete the watchlist's mentions published before `cutoff` (retention_days), and
        the accounts left with no mention anywhere: an author is kept only while needed.
        Member declarations and accounts named by a manual decision stay."""
        at = utc_iso(cutoff)
        touched = self.conn.execute(
            "SELECT DISTINCT account_id, person_id FROM mentions WHERE watchlist = ? "
            "AND published < ? AND account_id IS NOT NULL",
            (watchlist, at),
        ).fetchall()
        cur = self.conn.execute(
            "DELETE FROM mentions WHERE watchlist = ? AND published < ?", (watchlist, at)
        )
        for account_id, pid in touched:
            if (
                self.conn.execute(
                    "SELECT 1 FROM mentions WHERE person_id = ? AND account_id = ? LIMIT 1",
                    (pid, account_id),
                ).fetchone()
                or self.conn.execute(
                    "SELECT 1 FROM identity_decisions WHERE a = ?1 OR b = ?1 LIMIT 1", (account_id,)
                ).fetchone()
            ):
                continue
            self.conn.execute("DELETE FROM identifiers WHERE account_id = ?", (account_id,))
            self.conn.execute(
                "DELETE FROM accounts WHERE id = ? AND platform != 'watchlist'", (account_id,)
            )
            self.conn.execute(
                "DELETE FROM persons WHERE id = ?1 AND NOT EXISTS "
                "(SELECT 1 FROM accounts WHERE person_id = ?1)",
                (pid,),
            )
        return cur.rowcount

    # --- reading -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        cur = self.conn.cursor()
        cur.row_factory = sqlite3.Row
        return cur.execute(sql, params).fetchall()
