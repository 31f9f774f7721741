"""`kind = "mastodon"`: public statuses through the Mastodon REST API: tag timelines
(`/api/v1/timelines/tag/{tag}`) and an account's statuses (`/api/v1/accounts/lookup` then
`/api/v1/accounts/{id}/statuses`). A streaming `update` event is read too.

A status is an item at its `url`; its author an account with the `acct` identifier
`user@host` (a local account's acct has no host: the instance's is added), its profile URL;
`content` is HTML made text; `in_reply_to_id` names the parent (its URL when the parent is
in the same answer, else the instance's `/web/statuses/{id}` page).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import quote

from ereput.fetchers.base import ReadContext, ReadResult, SourceState, register
from ereput.fetchers.posts import account, html_text, iso_date, load_json, plain
from ereput.identifiers import acct_identifier, avatar_identifier
from ereput.models import Item, Source
from ereput.urls import canonical_url, host_of

_NEXT = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")
MAX_PAGES = 5


def base_of(url: str) -> str:
    m = re.match(r"(https?://[^/]+)", url)
    return (m[1] if m else url.rstrip("/")) + "/"


def parse_statuses(body: bytes, url: str) -> list[Item]:
    """Statuses from a timeline (a list), one status, or a streaming `update` event."""
    doc = load_json(body)
    if isinstance(doc, dict) and doc.get("event") == "update":
        payload = doc.get("payload")
        doc = json.loads(payload) if isinstance(payload, str) and len(payload) < 2**22 else payload
    statuses = doc if isinstance(doc, list) else [doc]
    base = base_of(url)
    by_id: dict[str, str] = {}
    out = []
    for s in statuses[:1000]:
        if not isinstance(s, dict):
            continue
        if isinstance(s.get("reblog"), dict):
            s = s["reblog"]  # a boost: the words are the original author's
        item = _status(s, base)
        if item is not None:
            by_id[str(s.get("id"))] = item.url
            out.append((item, s.get("in_reply_to_id")))
    items = []
    for item, reply_to in out:
        if reply_to is not None:
            parent = by_id.get(str(reply_to)) or canonical_url(f"web/statuses/{reply_to}", base)
            item = dataclasses.replace(item, title="", thread_url=parent, parent_url=parent)
        items.append(item)
    return items


def _status(s: dict[str, Any], base: str) -> Item | None:
    url = canonical_url(s.get("url") or s.get("uri") or "", base)
    if url is None:
        return None
    acc: dict[str, Any] = s["account"] if isinstance(s.get("account"), dict) else {}
    acct = str(acc.get("acct") or "")
    if acct and "@" not in acct:
        acct = f"{acct}@{host_of(base)}"
    profile = canonical_url(acc.get("url") or "", base)
    author = account(
        host_of(profile or base),
        acc.get("display_name") or acc.get("username"),
        profile_url=profile,
        extra=(acct_identifier(acct), avatar_identifier(acc.get("avatar"))),
        platform="mastodon",
    )
    text = html_text(s.get("content"))
    if spoiler := plain(s.get("spoiler_text")):
        text = f"{spoiler} {text}"
    return Item(
        url=url,
        text=text,
        published=iso_date(s.get("created_at")),
        author=author,
        entry_id=str(s.get("uri") or url)[:1000],
        language=plain(s.get("language"), 20) or None,
    )


def parse_account_id(body: bytes, url: str) -> str | None:
    doc = load_json(body)
    ident = doc.get("id") if isinstance(doc, dict) else None
    return str(ident) if isinstance(ident, str | int) and str(ident).isdigit() else None


class MastodonReader:
    kind = "mastodon"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        base = base_of(source.url)
        cursor = dict(state.cursor)
        since: dict[str, str] = dict(cursor.get("since_id") or {})
        timelines = []
        tags = source.options.get("tag") or []
        for tag in [tags] if isinstance(tags, str) else tags:
            timelines.append(f"{base}api/v1/timelines/tag/{quote(str(tag).lstrip('#'))}")
        accounts = source.options.get("account") or []
        for acct in [accounts] if isinstance(accounts, str) else accounts:
            res = await ctx.http.get(
                f"{base}api/v1/accounts/lookup?acct={quote(str(acct).lstrip('@'))}",
                accept="application/json",
            )
            ident = await ctx.parse(parse_account_id, res.body, res.url)
            if ident:
                timelines.append(f"{base}api/v1/accounts/{ident}/statuses")
        if "/api/v1/" in source.url:
            timelines.append(source.url)
        items: list[Item] = []
        for timeline in timelines:
            sep = "&" if "?" in timeline else "?"
            start = f"{timeline}{sep}limit=40"
            if since.get(timeline):
                start += f"&since_id={since[timeline]}"
            url: str | None = start
            first_ids: list[str] = []
            for _ in range(int(source.options.get("max_pages", MAX_PAGES))):
                if url is None:
                    break
                res = await ctx.http.get(url, accept="application/json")
                page = await ctx.parse(parse_statuses, res.body, res.url)
                ids = await ctx.parse(_ids, res.body)
                first_ids = first_ids or ids
                items.extend(page)
                m = _NEXT.search(res.headers.get("link", ""))
                url = m[1] if m and ids and not since.get(timeline) else None
            if first_ids:
                since[timeline] = max(first_ids, key=lambda i: (len(i), i))
        cursor["since_id"] = since
        return ReadResult(items, SourceState(None, None, cursor))


def _ids(body: bytes) -> list[str]:
    doc = load_json(body)
    return (
        [str(s["id"]) for s in doc if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
        if isinstance(doc, list)
        else []
    )


register(MastodonReader())
