"""Stack Exchange (Stack Overflow and every `*.stackexchange.com` site) question pages and
question lists, as `engine = "stackexchange"` of the `forum` kind.

A question page is a thread: the question (`#question`, its title the thread's), each
answer (`div.answer[data-answerid]`, parent: the question) and each comment shown under
a post (`li.comment`, parent: that post; a page shows the first few comments of each
post). A post's author is its `.post-signature` that is not an edit (the `.owner` one for
the question; an editor's signature links to `/posts/N/revisions`), with the profile
`/users/N/name` (uid `N@host`); a deleted or unregistered user is a bare name. Dates are
the `title` of `.relativetime` ("2014-02-06 20:37:20Z", UTC). Permalinks: the question's
canonical URL, `/a/{id}` for an answer, `/posts/comments/{id}` for a comment (the short
links the site gives for sharing them).
"""

from __future__ import annotations

import re

from bs4 import Tag

from ereput.fetchers.posts import (
    Listing,
    Post,
    TopicPage,
    TopicRef,
    Zone,
    account,
    first,
    iso_date,
    next_link,
    page_url_of,
    soup,
    strip_session,
    text_date,
    text_of,
    topic_page,
)
from ereput.models import Account
from ereput.urls import canonical_url, host_of

_USER_ID = re.compile(r"/users/(-?\d+)")
_QUESTION_ID = re.compile(r"/questions/(\d+)")
_DROP = "script, style, .js-post-notice, aside"


def parse_topic(
    body: bytes,
    url: str,
    content_type: str | None = None,
    first_post_url: str | None = None,
    *,
    tz: Zone = None,
) -> TopicPage:
    doc = soup(body, content_type)
    page_url = page_url_of(doc, url)
    question_url = re.sub(r"\?.*$", "", page_url)
    h1 = first(doc, "h1 a.question-hyperlink", "#question-header h1", "h1")
    title = h1.get_text(" ", strip=True) if h1 else ""
    posts: list[Post] = []
    question = doc.select_one("#question, div.question[data-questionid]")
    if question is not None:
        qpost = _post(question, question_url, page_url, None, tz)
        if qpost is not None:
            posts.append(qpost)
            posts.extend(_comments(question, qpost.url, page_url, tz))
    for el in doc.select("div.answer[data-answerid]"):
        aid = str(el.get("data-answerid", ""))
        answer_url = canonical_url(f"/a/{aid}", page_url) if aid.isdigit() else None
        if answer_url is None:
            continue
        post = _post(el, answer_url, page_url, question_url, tz)
        if post is not None:
            posts.append(post)
            posts.extend(_comments(el, post.url, page_url, tz))
    nxt = first(doc, ".s-pagination a[rel=next]", "link[rel=next]", "a[rel=next]")
    return topic_page(
        posts,
        topic_url=question_url,
        title=title,
        first_page=question is not None,
        first_post_url=first_post_url or (question_url if question is not None else None),
        next_url=next_link(nxt, url),
    )


def _post(el: Tag, url: str, page_url: str, parent: str | None, tz: Zone) -> Post | None:
    signature = _author_signature(el)
    author = _user(signature.select_one(".user-details"), page_url) if signature else None
    stamp = signature.select_one(".user-action-time .relativetime[title]") if signature else None
    published = iso_date(str(stamp.get("title", "")), tz) if stamp is not None else None
    if published is None and stamp is not None:
        published = text_date(stamp.get_text(" ", strip=True), tz=tz)
    post_id = el.get("data-answerid") or el.get("data-questionid") or ""
    return Post(
        url=url,
        text=text_of(first(el, ".js-post-body", "[itemprop=text]", ".post-text"), drop=_DROP),
        author=author,
        published=published,
        entry_id=f"se-post-{post_id}@{host_of(page_url)}" if post_id else None,
        parent_url=parent,
    )


def _author_signature(el: Tag) -> Tag | None:
    """The asker's or answerer's signature: not an editor's (which links to revisions)."""
    signatures = [
        s for s in el.select(".post-signature") if s.find_parent("li", class_="comment") is None
    ]
    owner = [s for s in signatures if "owner" in (s.get("class") or [])]
    if owner:
        return owner[0]
    authored = [s for s in signatures if s.select_one("a[href*='/revisions']") is None]
    return authored[-1] if authored else None


def _user(details: Tag | None, page_url: str) -> Account | None:
    if details is None:
        return None
    link = details.select_one("a[href*='/users/']")
    if link is not None:
        profile = strip_session(str(link.get("href", "")), page_url)
        m = _USER_ID.search(profile or "")
        return account(
            page_url,
            link.get_text(" ", strip=True),
            profile_url=profile,
            uid=m[1] if m and not m[1].startswith("-") else None,
            platform="stackexchange",
        )
    # a deleted or unregistered user ("user9551"): the name alone, no profile
    name = details.find(string=True, recursive=False) or details.get_text(" ", strip=True)
    return account(page_url, " ".join(str(name).split()), platform="stackexchange")


def _comments(el: Tag, post_url: str, page_url: str, tz: Zone) -> list[Post]:
    out = []
    for c in el.select("li.comment[data-comment-id]"):
        cid = str(c.get("data-comment-id", ""))
        url = canonical_url(f"/posts/comments/{cid}", page_url) if cid.isdigit() else None
        if url is None:
            continue
        user = c.select_one("a.comment-user, span.comment-user")
        author = None
        if user is not None and user.name == "a":
            author = _user(user.parent, page_url)
        elif user is not None:
            author = account(page_url, user.get_text(" ", strip=True), platform="stackexchange")
        stamp = c.select_one(".comment-date [title]")
        published = None
        if stamp is not None:
            published = iso_date(str(stamp.get("title", "")).split(",")[0], tz)
        out.append(
            Post(
                url=url,
                text=text_of(c.select_one(".comment-copy"), drop="script, style"),
                author=author,
                published=published,
                entry_id=f"se-comment-{cid}@{host_of(page_url)}",
                parent_url=post_url,
            )
        )
    return out


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    """A question list (`/questions`, `/questions/tagged/x`, a search): its questions,
    each marked by its answer count and last activity."""
    doc = soup(body, content_type)
    topics = []
    for row in doc.select(".s-post-summary, .question-summary"):
        a = first(row, ".s-post-summary--content-title a", "a.question-hyperlink", "h3 a")
        href = strip_session(str(a.get("href", "")), url) if a is not None else None
        m = _QUESTION_ID.search(href or "")
        if a is None or href is None or m is None:
            continue
        stats = first(row, ".s-post-summary--stats", ".statscontainer")
        activity = row.select_one(".relativetime[title]")
        marker = " ".join(
            part
            for part in (
                " ".join(stats.get_text(" ", strip=True).split()) if stats else "",
                str(activity.get("title", "")) if activity is not None else "",
            )
            if part
        )
        topics.append(TopicRef(href, m[1], a.get_text(" ", strip=True), marker))
    nxt = first(doc, ".s-pagination a[rel=next]", "link[rel=next]")
    return Listing(list({t.key: t for t in topics}.values()), [], next_link(nxt, url))
