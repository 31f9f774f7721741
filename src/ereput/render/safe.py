"""Making fetched strings inert in every output format (SPEC §5, §7 "Output safety")."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal(text: str | None, limit: int | None = None) -> str:
    """No escape sequence, control character or bidi override reaches the terminal."""
    s = _CONTROL.sub("", (text or "").replace("\r", " ").replace("\t", " "))
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def one_line(text: str | None, limit: int | None = None) -> str:
    return terminal(" ".join((text or "").split()), limit)


def markdown(text: str | None, limit: int | None = None) -> str:
    """Markdown-escaped, one line: no link, image, HTML or table cell can be injected."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text, limit))


def markdown_url(url: str | None) -> str:
    """A URL for `<…>` autolinks: http(s) only, no characters that close the link."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    return re.sub(r"[\s<>()\[\]`\\]", lambda m: f"%{ord(m.group()):02X}", url)


def http_url(url: str | None) -> str | None:
    """A link target for HTML and Markdown reports: http(s) only (no `javascript:`, `data:`
    or relative URL), no whitespace or control character; None when the URL is unfit."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) <= len("https://"):
        return None
    return re.sub(r"[\x00-\x20\x7f-\x9f\"'<>`]", lambda m: f"%{ord(m.group()):02X}", url)


_CSV_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet would execute (=, +, -, @, tab, CR first) is prefixed with ';
    terminal escapes and bidi overrides are removed (tab, CR and LF are kept)."""
    if isinstance(value, str):
        value = _CSV_CONTROL.sub("", value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value
