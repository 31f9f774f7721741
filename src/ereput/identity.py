"""Who is speaking: account keys and classes (SPEC §2, §7 "Accounts", "Members").

This module holds the pure rules: account keys, classes, and how accounts group into
persons (`components`); the store applies them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ereput.identifiers import is_placeholder_name
from ereput.models import Account, AuthorClass, Identifier
from ereput.text import fold

# The strongest identifier keys an account; the order says which is strongest.
STRENGTH = ("uid", "acct", "handle", "url", "email", "avatar")


def strongest(identifiers: tuple[Identifier, ...]) -> Identifier | None:
    ranked = sorted(identifiers, key=lambda i: STRENGTH.index(i.kind) if i.kind in STRENGTH else 99)
    return ranked[0] if ranked else None


def account_key(account: Account, item_url: str) -> str:
    """An account is its site and its strongest identifier, else its display name there.

    A placeholder name without identifier never forms a shared account: each such item has
    its own anonymous author, keyed by the item.
    """
    best = strongest(account.identifiers)
    if best is not None:
        return f"{account.site}|{best.kind}:{best.value}"
    if is_placeholder_name(account.name):
        return f"anon:{item_url}"
    return f"{account.site}|name:{fold(account.name)}"


def short_hash(*parts: str, size: int = 16) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=size // 2).hexdigest()


def new_person_id(key: str) -> str:
    return "p" + short_hash(key, size=12)


def author_class(is_member: bool, identifiers: int) -> AuthorClass:
    if is_member:
        return AuthorClass.MEMBER
    return AuthorClass.IDENTIFIED if identifiers else AuthorClass.ANONYMOUS


def components(
    nodes: Iterable[str],
    links: Iterable[tuple[str, str]],
    *,
    cannot: Iterable[tuple[str, str]] = (),
) -> list[set[str]]:
    """Group accounts into persons: union along `links` (manual links first, then shared
    identifiers), refusing any union that would put a `cannot` pair (a manual unlink) in
    one person. Deterministic for a given order of links."""
    parent = {n: n for n in nodes}
    members: dict[str, set[str]] = {n: {n} for n in parent}
    forbidden: dict[str, set[str]] = {}
    for a, b in cannot:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in links:
        if a not in parent or b not in parent:
            continue
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        small, big = sorted((ra, rb), key=lambda r: len(members[r]))
        if any(forbidden.get(n, set()) & members[big] for n in members[small]):
            continue
        parent[small] = big
        members[big] |= members.pop(small)
    return sorted(members.values(), key=lambda s: min(s))
