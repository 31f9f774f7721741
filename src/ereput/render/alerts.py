"""Alert messages: a Slack/Mattermost webhook text and a plain-text e-mail (pure).

Every string that came from a fetched page (a title, a text, an author name, a URL) is made
inert: on one line, bounded, and for the webhook escaped per Slack's rules (`&`, `<`, `>`
become entities, so `<!channel>` or `<http://evil|click>` stay text) with Mattermost's
Markdown and @-mentions broken by a zero-width space (`@channel` does not ping,
`[click](http://evil)` is no link). A mention's own URL is linked as `<url>`, http(s) only,
with the characters that would end or relabel the link percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ereput.render.safe import one_line

ZWSP = "\u200b"
EXCERPT = 160
NAME = 60

RULE_LABELS = {
    "negative_outside": "negative, open space",
    "spike": "spike",
    "flagged_author": "flagged author",
    "mediator": "mediator",
}


class Escape(Protocol):
    def __call__(self, text: str | None, limit: int | None = None, /) -> str: ...


@dataclass(frozen=True)
class AlertView:
    """One alert as the outbox and the mentions table give it."""

    rules: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)
    # url, title, text, author_name, author_class, author_role, space, source, sentiment,
    # published; None for a spike
    mention: dict[str, Any] | None = None


def slack_text(text: str | None, limit: int | None = None) -> str:
    """A fetched string for a Slack/Mattermost message: one line, escaped, inert."""
    s = one_line(text, limit)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Mattermost renders Markdown and links @mentions in webhook text: break both.
    return s.replace("@", "@" + ZWSP).replace("](", "]" + ZWSP + "(")


_URL_UNSAFE = re.compile(r"[\s<>|()\[\]`\\\"']")


def slack_url(url: str | None) -> str:
    """`<url>` for http(s) URLs, else nothing; `|` cannot relabel the link."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    safe = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", one_line(url))
    return "<" + safe.replace("&", "&amp;") + ">"


def plain_text(text: str | None, limit: int | None = None) -> str:
    """A fetched string for a plain-text e-mail: one line, no control characters."""
    return one_line(text, limit)


def plain_url(url: str | None) -> str:
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", one_line(url))


def heading(title: str, count: int, esc: Escape) -> str:
    return f"ereput · {esc(title)} — {count} new alert{'s' if count != 1 else ''}"


def _labels(alert: AlertView, esc: Escape) -> str:
    labels = []
    for rule in alert.rules:
        label = RULE_LABELS.get(rule, rule)
        if rule == "negative_outside" and alert.mention:
            sentiment = alert.mention.get("sentiment")
            if sentiment is not None:
                label += f" · sentiment {sentiment:+.2f}"
        if rule == "flagged_author":
            flags = alert.detail.get("flags") or []
            label = (
                ", ".join(
                    esc(str(f.get("flag", "")))
                    + (f" ({esc(str(f['why']))})" if f.get("why") else "")
                    for f in flags
                )
                or label
            )
        labels.append(label)
    return "; ".join(labels)


def _spike(alert: AlertView, esc: Escape) -> str:
    d = alert.detail
    space = esc(str(d.get("space", "")))
    parts = []
    if "volume" in d.get("which", ()):
        parts.append(f"{d.get('count', 0)} mentions (7-day average {d.get('average', 0):.1f})")
    if "negative" in d.get("which", ()):
        parts.append(
            f"{d.get('negative', 0)} negative mentions "
            f"(7-day average {d.get('negative_average', 0):.1f})"
        )
    return f"{space} space on {esc(str(d.get('date', '')))}: " + ", ".join(parts)


def _who(m: dict[str, Any], esc: Escape) -> str:
    name = esc(m.get("author_name") or "", NAME) or "anonymous"
    status = m.get("author_role") or m.get("author_class") or ""
    return f"{name} ({esc(status)})" if status else name


def _excerpt(m: dict[str, Any], esc: Escape) -> str:
    return esc(m.get("title") or m.get("text") or "", EXCERPT)


def webhook_text(title: str, alerts: Sequence[AlertView], *, total: int | None = None) -> str:
    """One webhook message (`{"text": …}`) for a batch of alerts."""
    lines = [heading(title, total if total is not None else len(alerts), slack_text)]
    for a in alerts:
        labels = _labels(a, slack_text)
        if a.mention is None:
            lines.append(f"• [{labels}] {_spike(a, slack_text)}")
            continue
        m = a.mention
        excerpt = _excerpt(m, slack_text)
        line = f"• [{labels}] {_who(m, slack_text)} on {slack_text(m.get('source'))}"
        line += f": “{excerpt}”" if excerpt else ""
        url = slack_url(m.get("url"))
        lines.append(f"{line} {url}" if url else line)
    return "\n".join(lines)


def email_message(title: str, alerts: Sequence[AlertView]) -> tuple[str, str]:
    """(subject, plain-text body) of one alert e-mail."""
    count = len(alerts)
    subject = f"ereput: {count} new alert{'s' if count != 1 else ''} for {plain_text(title, 80)}"
    lines = [heading(title, count, plain_text), ""]
    for a in alerts:
        lines.append(f"* {_labels(a, plain_text)}")
        if a.mention is None:
            lines.append(f"  {_spike(a, plain_text)}")
        else:
            m = a.mention
            when = str(m.get("published") or "").replace("T", " ").replace("Z", " UTC")
            lines.append(f"  {_who(m, plain_text)} on {plain_text(m.get('source'))}, {when}")
            if excerpt := _excerpt(m, plain_text):
                lines.append(f"  “{excerpt}”")
            if url := plain_url(m.get("url")):
                lines.append(f"  {url}")
        lines.append("")
    lines.append("-- ")
    lines.append("Sent by ereput after a scan; each alert is sent once.")
    return subject, "\n".join(lines) + "\n"
