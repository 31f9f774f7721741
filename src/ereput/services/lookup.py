"""Look-ups: `mentions`, `author QUERY`, `authors`, `author export/forget`.

Each function takes the store and plain arguments and returns plain data (dicts in the
shape of SPEC §4's JSON keys); rendering is the CLI's business.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process

from ereput.dates import utc_iso
from ereput.errors import NotFoundError, UsageError
from ereput.identifiers import acct_identifier, email_identifier, url_identifier
from ereput.models import AuthorClass, Identifier, Space
from ereput.store import MENTION_COLUMNS, Store
from ereput.text import fold

SPACES = tuple(s.value for s in Space)
CLASSES = tuple(c.value for c in AuthorClass)


@dataclass(frozen=True)
class MentionFilter:
    watchlist: str
    since: datetime | None = None
    until: datetime | None = None  # exclusive bound (callers pass the end of the last day)
    space: str | None = None
    klass: str | None = None
    person_ids: tuple[str, ...] | None = None
    source: str | None = None
    search: str | None = None
    limit: int = 50


def mention_json(row: Any) -> dict[str, Any]:
    """A stored mention in the shape of SPEC §4."""
    return {
        "id": row["id"],
        "watchlist": row["watchlist"],
        "url": row["url"],
        "thread_url": row["thread_url"],
        "parent_url": row["parent_url"],
        "source": row["source"],
        "source_kind": row["source_kind"],
        "space": row["space"],
        "title": row["title"],
        "text": row["text"],
        "published": row["published"],
        "undated": bool(row["undated"]),
        "fetched": row["fetched"],
        "language": row["language"],
        "sentiment": row["sentiment"],
        "matched": json.loads(row["matched"]),
        "context": bool(row["context"]),
        "author": {
            "name": row["author_name"],
            "person_id": row["person_id"],
            "class": row["author_class"],
            "role": row["author_role"],
        },
    }


def fts_query(text: str) -> str:
    """User words as an FTS5 query: every word must appear, none is FTS syntax."""
    words = re.findall(r"\w+", text)
    if not words:
        raise UsageError(f"nothing to search for in {text!r}")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


# A search matching at most this many mentions reads them all and sorts them; beyond, the
# newest mentions are read in widening windows (see `_search_window`).
SEARCH_PROBE = 2000
SEARCH_WINDOW = 5000


def list_mentions(store: Store, f: MentionFilter) -> list[dict[str, Any]]:
    where, params = ["watchlist = ?"], [f.watchlist]
    if f.since:
        where.append("published >= ?")
        params.append(utc_iso(f.since))
    if f.until:
        where.append("published < ?")
        params.append(utc_iso(f.until))
    if f.space:
        where.append("space = ?")
        params.append(f.space)
    if f.klass:
        where.append("author_class = ?")
        params.append(f.klass)
    if f.source:
        where.append("source = ?")
        params.append(f.source)
    if f.person_ids is not None:
        where.append(f"person_id IN ({','.join('?' * len(f.person_ids))})")
        params.extend(f.person_ids)
    limit = f" LIMIT {int(f.limit)}" if f.limit else ""
    if f.search:
        return _search(store, f, " AND ".join(where), params, limit)
    sql = (
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE {' AND '.join(where)} "
        f"ORDER BY published DESC, id{limit}"
    )
    return [mention_json(r) for r in store.query(sql, params)]


def _search(
    store: Store, f: MentionFilter, where: str, params: list[Any], limit: str
) -> list[dict[str, Any]]:
    """Full-text search, newest first, fast whether the words are rare or everywhere.

    SQLite left alone either reads every match (a word in most mentions: a million rows)
    or walks the whole watchlist backwards looking for a rare word. So: a search with few
    matches reads them all through the full-text index; otherwise the newest mentions are
    read in windows (every mention published since a date), widened until the window holds
    `limit` matches, each window's matches taken from the full-text index within the
    window's rowid range. The result is exactly the one query's, ordered the same.
    """
    match = fts_query(f.search or "")
    probe = store.query(
        "SELECT count(*) FROM (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ? "
        f"LIMIT {SEARCH_PROBE + 1})",
        [match],
    )[0][0]
    cols = ", ".join(f"m.{c.strip()}" for c in MENTION_COLUMNS.split(","))
    if probe <= SEARCH_PROBE or not f.limit:
        # Few matches (or all wanted): the full-text index drives, then sort.
        sql = (
            f"SELECT {cols} FROM mentions_fts CROSS JOIN mentions m ON m.rowid = "
            f"mentions_fts.rowid WHERE mentions_fts MATCH ? AND {_prefixed(where)} "
            f"ORDER BY m.published DESC, m.id{limit}"
        )
        return [mention_json(r) for r in store.query(sql, [match, *params])]
    window = SEARCH_WINDOW
    while True:
        edge = store.query(
            f"SELECT published FROM mentions WHERE {where} ORDER BY published DESC "
            f"LIMIT 1 OFFSET {window - 1}",
            params,
        )
        since = [edge[0][0]] if edge else []
        in_window = where + (" AND published >= ?" if edge else "")
        lo, hi = store.query(
            f"SELECT min(rowid), max(rowid) FROM mentions WHERE {in_window}", [*params, *since]
        )[0]
        if lo is None:
            return []
        rows = store.query(
            f"SELECT {MENTION_COLUMNS} FROM mentions WHERE {in_window} AND rowid IN "
            "(SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ? AND rowid >= ? "
            f"AND rowid <= ?) ORDER BY published DESC, id{limit}",
            [*params, *since, match, lo, hi],
        )
        # Every mention published since the window's edge is in it: with `limit` matches
        # there, no match outside can be newer.
        if len(rows) >= f.limit or not edge:
            return [mention_json(r) for r in rows]
        window *= 8


def _prefixed(where: str) -> str:
    return re.sub(r"\b(watchlist|published|space|author_class|source|person_id) ", r"m.\1 ", where)


# --- persons -----------------------------------------------------------------------------


def identifier_from_query(query: str) -> Identifier | None:
    """Read a look-up as an identifier when it is one: a URL, a fediverse account, an e-mail."""
    q = query.strip()
    if q.startswith(("http://", "https://")):
        return url_identifier(q)
    if q.lower().startswith("mailto:"):
        return email_identifier(q[7:])
    if re.fullmatch(r"@?[\w.+-]+@[\w-]+(\.[\w-]+)+", q):
        if q.startswith("@"):
            return acct_identifier(q)
        return email_identifier(q)
    return None


def find_persons(store: Store, query: str, limit: int = 10) -> list[str]:
    """Person ids for a look-up: a person_id, an identifier, else a name (fuzzy and
    accent-insensitive), best first."""
    q = query.strip()
    if not q:
        raise UsageError("author: give a name, a handle, a profile URL, an e-mail or a person_id")
    if re.fullmatch(r"p[0-9a-f]{12}", q) and store.query("SELECT 1 FROM persons WHERE id = ?", [q]):
        return [q]
    ident = identifier_from_query(q)
    if ident is not None:
        rows = store.query(
            "SELECT DISTINCT a.person_id FROM identifiers i JOIN accounts a "
            "ON a.id = i.account_id WHERE i.kind = ? AND i.value = ?",
            [ident.kind, ident.value],
        )
        if rows or ident.kind != "url":
            return [r[0] for r in rows]
        # A profile URL also finds the account whose profile it is.
        rows = store.query(
            "SELECT DISTINCT person_id FROM accounts WHERE profile_url = ?", [ident.value]
        )
        return [r[0] for r in rows]
    folded = fold(q)
    exact = store.query(
        "SELECT person_id, count(*) FROM accounts WHERE name_folded = ? GROUP BY person_id "
        "ORDER BY count(*) DESC",
        [folded],
    )
    if exact:
        return [r[0] for r in exact][:limit]
    names = _candidate_names(store, folded)
    best = process.extract(folded, names, scorer=fuzz.WRatio, score_cutoff=80, limit=limit)
    found: list[str] = []
    for name, _score, _ in best:
        for r in store.query(
            "SELECT DISTINCT person_id FROM accounts WHERE name_folded = ?", [name]
        ):
            if r[0] not in found:
                found.append(r[0])
    return found[:limit]


def _candidate_names(store: Store, folded: str) -> list[str]:
    """The folded names worth scoring against a look-up, in name order: those with a word
    beginning with the first three letters of a word of the query (the full-text index of
    account names has a 3-letter prefix index). Scoring all names of a large database
    costs a second; a name that scores 80 shares such a word in practice ("alex steer
    mccrum" finds "Alex Steers McCrum", "mccrum" finds it too)."""
    words = re.findall(r"[^\W_]+", folded)
    if words:
        match = " OR ".join(sorted({f'"{w[:3]}"*' for w in words}))
        rows = store.query(
            "SELECT name_folded FROM accounts WHERE rowid IN "
            "(SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ?)",
            [match],
        )
    else:  # nothing word-like (emoji, punctuation): score every name
        rows = store.query("SELECT DISTINCT name_folded FROM accounts")
    return sorted({r[0] for r in rows} - {""})


def person_record(store: Store, person_id: str, watchlist: str, recent: int = 5) -> dict[str, Any]:
    """Everything `author` shows of one person, in SPEC §4's keys."""
    accounts = store.query(
        "SELECT id, site, platform, name, profile_url FROM accounts WHERE person_id = ? "
        "ORDER BY platform = 'watchlist', name",
        [person_id],
    )
    if not accounts:
        raise NotFoundError(f"no person {person_id}")
    member = store.query(
        "SELECT name, role FROM members WHERE watchlist = ? AND person_id = ?",
        [watchlist, person_id],
    )
    idents = store.query(
        "SELECT DISTINCT i.kind, i.value FROM identifiers i JOIN accounts a "
        "ON a.id = i.account_id WHERE a.person_id = ? ORDER BY i.kind, i.value",
        [person_id],
    )
    stats = store.query(
        "SELECT count(*) AS n, sum(space = 'community') AS community, sum(space = 'open') AS open,"
        " min(published) AS first, max(published) AS last, avg(sentiment) AS sentiment "
        "FROM mentions WHERE watchlist = ? AND person_id = ?",
        [watchlist, person_id],
    )[0]
    names = Counter(
        {
            r[0]: r[1]
            for r in store.query(
                "SELECT author_name, count(*) FROM mentions WHERE watchlist = ? AND person_id = ? "
                "AND author_name != '' GROUP BY author_name",
                [watchlist, person_id],
            )
        }
    )
    for a in accounts:
        if a["name"] and a["platform"] != "watchlist":
            names.setdefault(a["name"], 0)
    sources = store.query(
        # `+source`: grouping along the (watchlist, source) index reads the whole watchlist.
        "SELECT source, count(*) AS n FROM mentions WHERE watchlist = ? AND person_id = ? "
        "GROUP BY +source ORDER BY n DESC, source",
        [watchlist, person_id],
    )
    latest = store.query(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE watchlist = ? AND person_id = ? "
        "ORDER BY published DESC LIMIT ?",
        [watchlist, person_id, recent],
    )
    if member:
        klass, role, name = AuthorClass.MEMBER.value, member[0]["role"], member[0]["name"]
    else:
        klass = AuthorClass.IDENTIFIED.value if idents else AuthorClass.ANONYMOUS.value
        role = None
        name = names.most_common(1)[0][0] if names else (accounts[0]["name"] or "")
    return {
        "person_id": person_id,
        "name": name,
        "names": [n for n, _ in names.most_common()],
        "class": klass,
        "role": role,
        "identifiers": [{"kind": r["kind"], "value": r["value"]} for r in idents],
        "accounts": [
            {
                "platform": a["platform"] or a["site"],
                "site": a["site"],
                "name": a["name"],
                "profile_url": a["profile_url"],
            }
            for a in accounts
            if a["platform"] != "watchlist"
        ],
        "mentions": stats["n"],
        "by_space": {"community": stats["community"] or 0, "open": stats["open"] or 0},
        "sources": [{"source": r["source"], "mentions": r["n"]} for r in sources],
        "first_seen": stats["first"],
        "last_seen": stats["last"],
        "sentiment": stats["sentiment"],
        "reach": None,
        "flags": [],
        "recent": [mention_json(r) for r in latest],
    }


def lookup_author(store: Store, query: str, watchlist: str) -> list[dict[str, Any]]:
    pids = find_persons(store, query)
    if not pids:
        raise NotFoundError(f"no author matches {query!r}")
    return [person_record(store, pid, watchlist) for pid in pids]


def rank_authors(
    store: Store,
    watchlist: str,
    *,
    klass: str | None = None,
    sort: str = "mentions",
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Persons ranked by mentions (reach and sentiment ranking use their own scores once
    computed; until then reach ranks as mentions)."""
    where, params = ["watchlist = ?", "person_id IS NOT NULL"], [watchlist]
    if klass:
        where.append("author_class = ?")
        params.append(klass)
    order = {"mentions": "n DESC", "reach": "n DESC", "sentiment": "s ASC NULLS LAST"}
    if sort not in order:
        raise UsageError(f"--sort takes reach, mentions or sentiment, not {sort!r}")
    sql = (
        "SELECT person_id, count(*) AS n, avg(sentiment) AS s, max(published) AS last, "
        "sum(space = 'community') AS community, sum(space = 'open') AS open, "
        "count(DISTINCT source) AS sources, max(author_class) AS class, max(author_role) AS role "
        f"FROM mentions WHERE {' AND '.join(where)} GROUP BY person_id "
        f"ORDER BY {order[sort]}, last DESC"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = store.query(sql, params)
    out = []
    for r in rows:
        names = store.query(
            "SELECT author_name, count(*) AS c FROM mentions WHERE watchlist = ? AND person_id = ?"
            " GROUP BY author_name ORDER BY c DESC LIMIT 1",
            [watchlist, r["person_id"]],
        )
        member = store.query(
            "SELECT name FROM members WHERE watchlist = ? AND person_id = ?",
            [watchlist, r["person_id"]],
        )
        out.append(
            {
                "person_id": r["person_id"],
                "name": member[0]["name"] if member else (names[0][0] if names else ""),
                "class": r["class"],
                "role": r["role"],
                "mentions": r["n"],
                "by_space": {"community": r["community"], "open": r["open"]},
                "sources": r["sources"],
                "last_seen": r["last"],
                "sentiment": r["s"],
                "reach": None,
                "flags": [],
            }
        )
    return out
