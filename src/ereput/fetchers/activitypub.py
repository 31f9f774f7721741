"""ActivityPub objects (Mastodon, Pleroma, Friendica, Lemmy, PeerTube, GNU social, lotide,
Smithereen, WordPress, Discourse and NodeBB plugins): `Note`/`Page`/`Article`/… as items,
`Person`/`Service`/… actors as accounts with an `acct` identifier (`user@host`).

An object's `id` is its URL (what `inReplyTo` points at), `inReplyTo` its parent. The root
of its thread is not in the object: a reply's `thread_url` is the object it replies to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ereput.fetchers.posts import account, html_text, iso_date, load_json, plain
from ereput.identifiers import acct_identifier, avatar_identifier
from ereput.models import Account, Item
from ereput.urls import canonical_url, host_of

OBJECT_TYPES = frozenset({"Note", "Page", "Article", "Question", "Video", "Event", "Image"})
ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Organization", "Application"})


@dataclass(frozen=True, slots=True)
class Actor:
    account: Account
    username: str
    avatar: str | None


def _url(value: Any) -> str | None:
    """An AS2 link: a string, a Link object, or a list of them (the first text/html one)."""
    if isinstance(value, list):
        for v in value:
            if isinstance(v, dict) and v.get("mediaType") not in (None, "text/html"):
                continue
            if (url := _url(v)) is not None:
                return url
        return None
    if isinstance(value, dict):
        value = value.get("href") or value.get("url") or value.get("id")
    return canonical_url(value) if isinstance(value, str) else None


def parse_actor(body: bytes | dict[str, Any], url: str = "") -> Actor | None:
    doc = load_json(body) if isinstance(body, bytes | str) else body
    if not isinstance(doc, dict) or doc.get("type") not in ACTOR_TYPES:
        return None
    actor_id = _url(doc.get("id")) or canonical_url(url)
    if actor_id is None:
        return None
    host = host_of(actor_id)
    username = plain(doc.get("preferredUsername"), 200)
    profile = _url(doc.get("url"))
    icon = doc.get("icon")
    avatar = _url(icon.get("url") if isinstance(icon, dict) else icon)
    if avatar is None and isinstance(icon, dict) and isinstance(icon.get("url"), str):
        avatar = canonical_url(icon["url"].replace("&#038;", "&"))
    base = account(
        host,
        doc.get("name") or username,
        profile_url=profile or actor_id,
        extra=(
            acct_identifier(f"{username}@{host}") if username else None,
            avatar_identifier(avatar),
        ),
        platform="activitypub",
    )
    if base is None:
        return None
    # the actor's id is a URL identifier too (what objects' attributedTo point at)
    ids = tuple(
        dict.fromkeys(
            (
                *base.identifiers,
                *([i] if (i := account(host, "", profile_url=actor_id)) is None else i.identifiers),
            )
        )
    )
    return Actor(
        Account(base.site, base.name, ids, profile, "activitypub"),
        username,
        avatar,
    )


def parse_object(body: bytes | dict[str, Any], url: str = "") -> list[Item]:
    """Items from one object, an activity wrapping one (`Create`), or a collection page."""
    doc = load_json(body) if isinstance(body, bytes | str) else body
    if not isinstance(doc, dict):
        return []
    kind = doc.get("type")
    if kind in ("Create", "Update", "Announce") and isinstance(doc.get("object"), dict):
        return parse_object(doc["object"], url)
    if kind in ("OrderedCollection", "OrderedCollectionPage", "Collection", "CollectionPage"):
        items = doc.get("orderedItems") or doc.get("items") or []
        if isinstance(doc.get("first"), dict):
            items = items or doc["first"].get("orderedItems") or doc["first"].get("items") or []
        return [i for obj in items[:1000] if isinstance(obj, dict) for i in parse_object(obj, url)]
    if kind not in OBJECT_TYPES:
        return []
    obj_id = _url(doc.get("id"))
    if obj_id is None:
        return []
    author = _author(doc.get("attributedTo"), obj_id)
    parent = _url(doc.get("inReplyTo"))
    content = doc.get("content")
    if not content and isinstance(doc.get("contentMap"), dict):
        content = next(iter(doc["contentMap"].values()), "")
    text = (
        html_text(content)
        if doc.get("mediaType") in (None, "text/html")
        else plain(content, 100_000)
    )
    language = None
    if isinstance(doc.get("contentMap"), dict) and doc["contentMap"]:
        language = str(next(iter(doc["contentMap"])))[:20]
    elif isinstance(doc.get("language"), dict):
        language = plain(doc["language"].get("identifier"), 20) or None
    title = plain(doc.get("name")) if parent is None else ""
    return [
        Item(
            url=obj_id,
            title=title,
            text=text,
            published=iso_date(doc.get("published")),
            author=author,
            entry_id=obj_id,
            thread_url=parent,
            parent_url=parent,
            language=language,
        )
    ]


def _author(value: Any, obj_id: str) -> Account | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), None)
    if isinstance(value, dict):
        actor = parse_actor(value)
        return actor.account if actor else None
    actor_url = canonical_url(value) if isinstance(value, str) else None
    if actor_url is None:
        return None
    # Only the actor's URL is in the object: that is its identifier (its name is fetched
    # with the actor, when the source reads it).
    return account(host_of(actor_url), "", profile_url=actor_url, platform="activitypub")
