"""ActivityPub objects (Mastodon, Pleroma, Friendica, Lemmy, PeerTube, GNU social, lotide,
Smithereen, WordPress, Discourse and NodeBB plugins): `Note`/`Page`/`Article`/… as items,
`Person`/`Service`/… actors as accounts with an `acct` identifier (`user@host`).

An object's `id` is its URL (what `inReplyTo` points at), `inReplyTo` its parent. The root
of its thread is not in the object: a reply's `thread_url` is the object it replies to.

`kind = "activitypub"` reads one URL asked for as `application/activity+json`: an object
(a status, a Lemmy post or comment, a forum post of the Discourse or NodeBB plugins), a
collection, or an actor (then its outbox), following a collection's pages under a page
cap (`max_pages`). An object names its author only by the actor's URL: each such actor is
fetched once per scan (at most `MAX_ACTORS`) for its name, `acct` and avatar; an actor
that cannot be read leaves the author known by that URL alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ereput.errors import ParseError, SourceError
from ereput.fetchers.base import ReadContext, ReadResult, SourceState, register
from ereput.fetchers.posts import account, html_text, iso_date, load_json, plain
from ereput.identifiers import acct_identifier, avatar_identifier
from ereput.models import Account, Item, Source
from ereput.urls import canonical_url, host_of

ACCEPT = (
    "application/activity+json, "
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams";q=0.9, '
    "application/json;q=0.5"
)
DEFAULT_MAX_PAGES = 5
MAX_ACTORS = 20
COLLECTION_TYPES = frozenset(
    {"OrderedCollection", "OrderedCollectionPage", "Collection", "CollectionPage"}
)
OBJECT_TYPES = frozenset({"Note", "Page", "Article", "Question", "Video", "Event", "Image"})
ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Organization", "Application"})


@dataclass(frozen=True, slots=True)
class Actor:
    account: Account
    username: str
    avatar: str | None


def _type(doc: dict[str, Any]) -> str | None:
    """An object's `type`: a string, or the first string of a list (AS2 allows several)."""
    kind = doc.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


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
    if not isinstance(doc, dict) or _type(doc) not in ACTOR_TYPES:
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
    kind = _type(doc)
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


# --- the reader ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class APPage:
    """One ActivityPub document: its items, the actor it is (keyed by its id), and the next
    document to read (a collection's next page, an actor's outbox)."""

    items: list[Item]
    actor: Actor | None = None
    actor_id: str | None = None
    next_url: str | None = None


def parse_page(body: bytes, url: str = "") -> APPage:
    doc = load_json(body)
    if not isinstance(doc, dict):
        return APPage([])
    if _type(doc) in ACTOR_TYPES:
        actor = parse_actor(doc, url)
        return APPage([], actor, _url(doc.get("id")) or canonical_url(url), _url(doc.get("outbox")))
    nxt = None
    if _type(doc) in COLLECTION_TYPES:
        first = doc.get("first")
        if isinstance(first, str):
            nxt = canonical_url(first)
        elif isinstance(first, dict):
            nxt = _url(first.get("next"))
        nxt = nxt or _url(doc.get("next"))
    return APPage(parse_object(doc, url), next_url=nxt)


def parse_actor_page(body: bytes, url: str = "") -> Actor | None:
    try:
        return parse_actor(body, url)
    except ParseError:
        return None


class ActivityPubReader:
    kind = "activitypub"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        cursor: dict[str, Any] = dict(state.cursor)
        validators: dict[str, Any] = dict(cursor.get("validators") or {})
        budget = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        items: list[Item] = []
        actors: dict[str, Account] = {}

        async def get(url: str) -> Any:
            etag, modified = (validators.get(url) or [None, None])[:2]
            return await ctx.http.get(
                url,
                etag=etag,
                last_modified=modified,
                accept=ACCEPT,
                allow_file=url == source.url and url.startswith("file:"),
            )

        url: str | None = source.url
        seen: set[str] = set()
        while url and url not in seen and budget > 0:
            seen.add(url)
            budget -= 1
            res = await get(url)
            if res.not_modified:
                # an unchanged actor document: its outbox may still have news
                url = cursor.get("outbox") if url == source.url else None
                continue
            page = await ctx.parse(parse_page, res.body, res.url)
            if page.actor is not None and page.actor_id:
                actors[page.actor_id] = page.actor.account
                cursor["outbox"] = page.next_url
            items.extend(page.items)
            # asked conditionally next time: the source document and an actor's outbox
            if url in (source.url, cursor.get("outbox")):
                validators[url] = [res.etag, res.last_modified]
            url = page.next_url
        # authors known by their actor URL only: the actor document gives name and acct
        wanted = list(
            dict.fromkeys(
                i.author.profile_url
                for i in items
                if i.author is not None and not i.author.name and i.author.profile_url
            )
        )
        for actor_url in [u for u in wanted if u not in actors][:MAX_ACTORS]:
            try:
                res = await ctx.http.get(actor_url, accept=ACCEPT)
            except SourceError:
                continue  # a gone or private actor: the author stays known by its URL
            actor = await ctx.parse(parse_actor_page, res.body, res.url)
            if actor is not None:
                actors[actor_url] = actor.account
        items = [
            dataclasses.replace(i, author=actors[i.author.profile_url])
            if i.author is not None and not i.author.name and i.author.profile_url in actors
            else i
            for i in items
        ]
        cursor["validators"] = validators
        unchanged = not items and cursor == state.cursor
        return ReadResult(
            items, SourceState(state.etag, state.last_modified, cursor), not_modified=unchanged
        )


register(ActivityPubReader())
