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

from ereput.dates import now, utc_iso
from ereput.errors import NotFoundError, UsageError
from ereput.identifiers import acct_identifier, email_identifier, url_identifier
from ereput.models import AuthorClass, Identifier, Space, Watchlist
from ereput.sentiment import label_of
from ereput.services.people import activity, display_names, flags_of, window
from ereput.store import MENTION_COLUMNS, Store
from ereput.text import fold

SPACES = tuple(s.value for s in Space)
CLASSES = tuple(c.value for c in AuthorClass)
FLAGS = ("troll", "invite", "ambassador")


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
        "sentiment_label": None if row["sentiment"] is None else label_of(row["sentiment"]),
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


def person_record(store: Store, person_id: str, wl: Watchlist, recent: int = 5) -> dict[str, Any]:
    """Everything `author` shows of one person, in SPEC §4's keys; reach and flags are over
    the rules' window ending now (SPEC §7 "Windows")."""
    watchlist = wl.name
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
    lo, hi = window(wl)
    act = activity(store, watchlist, lo, hi, [person_id]).get(person_id)
    flags = flags_of(act, wl.rules) if act else []
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
        "reach": act.reach if act else 0.0,
        "reach_explained": act.reach_explained(wl.rules.window_days)
        if act
        else f"0: no mention in {wl.rules.window_days} days",
        "flags": [f["flag"] for f in flags],
        "flags_why": flags,
        "recent": [mention_json(r) for r in latest],
    }


def lookup_author(store: Store, query: str, wl: Watchlist) -> list[dict[str, Any]]:
    pids = find_persons(store, query)
    if not pids:
        raise NotFoundError(f"no author matches {query!r}")
    return [person_record(store, pid, wl) for pid in pids]


def rank_authors(
    store: Store,
    wl: Watchlist,
    *,
    klass: str | None = None,
    flag: str | None = None,
    sort: str = "reach",
    limit: int = 50,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Persons active in the rules' window ending `at` (default now), ranked by reach,
    mentions or sentiment (most negative first), filtered by class and flag."""
    order = {
        "reach": lambda a: (-a.reach, -a.mentions, a.person_id),
        "mentions": lambda a: (-a.mentions, -a.reach, a.person_id),
        "sentiment": lambda a: (a.sentiment is None, a.sentiment or 0.0, a.person_id),
    }
    if sort not in order:
        raise UsageError(f"--sort takes reach, mentions or sentiment, not {sort!r}")
    if flag and flag not in FLAGS:
        raise UsageError(f"--flag takes troll, invite or ambassador, not {flag!r}")
    lo, hi = window(wl, at)
    acts = [a for a in activity(store, wl.name, lo, hi).values() if not klass or a.klass == klass]
    flags = {a.person_id: flags_of(a, wl.rules) for a in acts}
    if flag:
        acts = [a for a in acts if any(f["flag"] == flag for f in flags[a.person_id])]
    acts.sort(key=order[sort])
    if limit:
        acts = acts[:limit]
    names = display_names(store, wl.name, [a.person_id for a in acts])
    return [
        {
            "person_id": a.person_id,
            "name": names.get(a.person_id, ""),
            "class": a.klass,
            "role": a.role,
            "mentions": a.mentions,
            "by_space": {"community": a.community, "open": a.open},
            "sources": a.sources,
            "last_seen": a.last_seen,
            "sentiment": a.sentiment,
            "reach": a.reach,
            "flags": [f["flag"] for f in flags[a.person_id]],
        }
        for a in acts
    ]


# --- identity actions ----------------------------------------------------------------------


def resolve_accounts(store: Store, query: str) -> list[str]:
    """The accounts a `link`/`unlink` argument names: the accounts holding an identifier
    (or whose profile a URL is), the accounts showing exactly this name when they all
    belong to one person (so that a person linked by names can be unlinked by the same
    names), else all the accounts of the one person a look-up finds."""
    q = query.strip()
    ident = identifier_from_query(q)
    if ident is not None:
        rows = store.query(
            "SELECT account_id FROM identifiers WHERE kind = ? AND value = ? ORDER BY 1",
            [ident.kind, ident.value],
        )
        if not rows and ident.kind == "url":
            rows = store.query("SELECT id FROM accounts WHERE profile_url = ?", [ident.value])
        if not rows:
            raise NotFoundError(f"no account has {ident.kind} {ident.value}")
        return [r[0] for r in rows]
    named = store.query(
        "SELECT id, person_id FROM accounts WHERE name_folded = ? AND platform != 'watchlist' "
        "ORDER BY id",
        [fold(q)],
    )
    if named and len({r["person_id"] for r in named}) == 1:
        return [r["id"] for r in named]
    return store.person_accounts(one_person(store, q))


def one_person(store: Store, query: str) -> str:
    """The one person a look-up names; an ambiguous name is refused with its candidates."""
    pids = find_persons(store, query)
    if not pids:
        raise NotFoundError(f"no author matches {query!r}")
    if len(pids) > 1:
        raise UsageError(
            f"{query!r} matches {len(pids)} persons ({', '.join(pids[:5])}): "
            "give a profile URL, a handle or a person_id"
        )
    return pids[0]


def link(store: Store, a: str, b: str) -> tuple[str, bool]:
    """Link the persons A and B name; returns the person kept and whether they were two."""
    left, right = resolve_accounts(store, a), resolve_accounts(store, b)
    were_two = store.person_of_account(left[0]) != store.person_of_account(right[0])
    return store.link(left, right), were_two


def unlink(store: Store, a: str, b: str) -> list[str]:
    left, right = resolve_accounts(store, a), resolve_accounts(store, b)
    if set(left) & set(right):
        raise UsageError(f"{a!r} and {b!r} name the same account: nothing to unlink")
    return store.unlink(left, right)


def forget(store: Store, query: str) -> tuple[str, int]:
    """Erase one person (never a declared member: the watchlist would declare them again)."""
    pid = one_person(store, query)
    declared = store.query("SELECT watchlist, name FROM members WHERE person_id = ?", [pid])
    if declared:
        raise UsageError(
            f"{declared[0]['name']!r} is a declared member of watchlist "
            f"{declared[0]['watchlist']!r}: remove them from the watchlist first"
        )
    return pid, store.forget(pid)


def export(store: Store, query: str) -> dict[str, Any]:
    """Everything stored about one person, in every watchlist (right of access)."""
    pid = one_person(store, query)
    accounts = []
    for a in store.query(
        "SELECT id, site, platform, name, profile_url FROM accounts WHERE person_id = ? "
        "ORDER BY id",
        [pid],
    ):
        idents = store.query(
            "SELECT kind, value FROM identifiers WHERE account_id = ? ORDER BY kind, value",
            [a["id"]],
        )
        accounts.append(
            {
                "account_id": a["id"],
                "site": a["site"],
                "platform": a["platform"],
                "name": a["name"],
                "profile_url": a["profile_url"],
                "identifiers": [{"kind": i["kind"], "value": i["value"]} for i in idents],
            }
        )
    ids = [a["account_id"] for a in accounts]
    marks = ",".join("?" * len(ids))
    decisions = store.query(
        f"SELECT a, b, decision, at FROM identity_decisions WHERE a IN ({marks}) "
        f"OR b IN ({marks}) ORDER BY at",
        [*ids, *ids],
    )
    members = store.query(
        "SELECT watchlist, name, role FROM members WHERE person_id = ? ORDER BY watchlist", [pid]
    )
    mentions = store.query(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE person_id = ? ORDER BY published, id",
        [pid],
    )
    created = store.query("SELECT created FROM persons WHERE id = ?", [pid])
    return {
        "person_id": pid,
        "created": created[0][0] if created else None,
        "exported": utc_iso(now()),
        "note": "e-mail addresses are stored only as SHA-256 hashes (identifier kind 'email')",
        "member_of": [dict(m) for m in members],
        "accounts": accounts,
        "identity_decisions": [dict(d) for d in decisions],
        "mentions": [mention_json(m) for m in mentions],
    }
