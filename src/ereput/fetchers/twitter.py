"""X (Twitter) status pages as the platform serves them to crawlers, read by a `blog`
source naming one status (a saved page, SPEC §3 `file://`, or its URL).

Such a page carries no post markup at all, only Open Graph tags: `og:url` is the status
(`https://twitter.com/NAME/status/ID`), `og:title` is "Display Name (@handle) on X" (or
"on Twitter"), `og:description` the words. The date is the one in the status id (a
"snowflake": milliseconds since 2010-11-04 in its high bits). The author is the handle
`NAME@twitter.com` with the profile `https://twitter.com/NAME`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ereput.fetchers.posts import account, plain
from ereput.models import Item

SITE = "https://twitter.com/"
_STATUS = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})/status(?:es)?/(\d{1,20})"
)
_TITLE = re.compile(r"^(.*?)\s*\(@([A-Za-z0-9_]{1,15})\)\s+(?:on|en|auf|sur|su|em)\s+(?:X|Twitter)")
_EPOCH_MS = 1288834974657  # the snowflake epoch


def snowflake_date(status_id: str) -> datetime | None:
    """The date inside a status id (ids before late 2010 hold none: None)."""
    n = int(status_id)
    if n < 2**32:
        return None
    return datetime.fromtimestamp(((n >> 22) + _EPOCH_MS) / 1000, UTC)


def status_item(url: str, og_url: str, og_title: str, og_description: str) -> Item | None:
    """The status an X/Twitter page shows, at `url` (the page's), or None when the page is
    not one."""
    status = _STATUS.match(og_url.strip()) or _STATUS.match(url)
    title = _TITLE.match(plain(og_title))
    if status is None or title is None:
        return None
    handle = title[2]
    author = account(
        SITE,
        title[1] or f"@{handle}",
        profile_url=f"{SITE}{handle}",
        handle=handle,
        handle_host="twitter.com",
        platform="twitter",
    )
    text = plain(og_description, 100_000).strip('\u201c\u201d"')
    return Item(
        url=url,
        text=text,
        published=snowflake_date(status[2]),
        author=author,
        entry_id=f"twitter-status-{status[2]}",
    )
