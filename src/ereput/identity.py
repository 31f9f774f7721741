"""Who is speaking: account keys and classes (SPEC §2, §7 "Accounts", "Members").

This module holds the pure rules. Full identity resolution (union of persons across
platforms, manual links, suggestions) builds on these seams.
"""

from __future__ import annotations

import hashlib

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
