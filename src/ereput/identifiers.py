"""Identifiers built from what pages give (SPEC §2), and the accounts that carry them.

Identifiers link accounts into persons, so each builder normalises hard (one spelling per
identity) and refuses what identifies nobody: an invalid address, the Gravatar of an empty
e-mail, a placeholder name. E-mail addresses are hashed here and never leave this module.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from ereput.models import Account, Identifier
from ereput.urls import canonical_url, host_of

MAX_NAME = 200

# Gravatar hashes of the empty address: a page that has no e-mail for the author still
# shows this image, so it is shared by every anonymous commenter.
EMPTY_EMAIL_HASHES = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
)

_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_GRAVATAR_PATH = re.compile(r"/avatar/([0-9a-f]{64}|[0-9a-f]{32})(?:\.(?:jpe?g|png|gif|webp))?")
_WAYBACK = re.compile(r"/web/\d+[a-z_]*/(.+)")
_ACCT_USER = re.compile(r"[\w.-]+")
_UID = re.compile(r"[^\s@/]+")
# Reddit shows one user on many hosts (www., old., ud., np.): the handle ties them together.
_REDDIT_USER = re.compile(r"/(?:user|u)/([\w-]{2,64})/?")


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "Invité" and "INVITE" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Names that a platform shows for nobody in particular (SPEC §7 "Accounts"): never a shared
# account. Stored folded; compare with `is_placeholder_name`.
PLACEHOLDER_NAMES = frozenset(
    _fold(n)
    for n in (
        "",
        "Anonymous",
        "Anonyme",
        "Invité",
        "Guest",
        "[deleted]",
        "Unknown",
        "[removed]",
        "Anon",
        "Anonym",
        "Anónimo",
        "Gast",
        "Invitado",
        "Deleted user",
    )
)


# Websites typed in a comment form by people who have none: shared by strangers.
PLACEHOLDER_SITES = frozenset(
    f"{www}{host}"
    for www in ("", "www.")
    for host in ("example.com", "example.org", "example.net", "localhost", "test.com")
)


def is_placeholder_name(name: str | None) -> bool:
    return name is None or _fold(name) in PLACEHOLDER_NAMES


def clean_name(name: str | None) -> str:
    """A display name as shown, made safe to store: no NUL, one space between words, bounded."""
    if not name:
        return ""
    return " ".join(name[: MAX_NAME * 8].replace("\x00", "").split())[:MAX_NAME]


def url_identifier(url: str | None, base: str | None = None) -> Identifier | None:
    """A profile or website URL: canonical, no fragment, no trailing slash but the root's
    (the form watchlist member declarations are compared in)."""
    canonical = canonical_url(url, base) if url else None
    if canonical is None:
        return None
    if canonical.split("://", 1)[1].rstrip("/") in PLACEHOLDER_SITES:
        return None
    if "?" not in canonical and "#" not in canonical:  # scheme://netloc/path, split by hand
        start = canonical.find("/", canonical.find("://") + 3)
        return Identifier("url", canonical[:start] + (canonical[start:].rstrip("/") or "/"))
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    return Identifier("url", urlunsplit(parts._replace(path=path, fragment="")))


def email_identifier(address: str | None) -> Identifier | None:
    """SHA-256 of the trimmed, lower-cased address; the address itself is never kept."""
    if not address:
        return None
    address = address.strip()
    if address[:7].lower() == "mailto:":
        address = address[7:].split("?", 1)[0]
    address = address.strip().lower()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        return None
    return Identifier("email", hashlib.sha256(address.encode("utf-8")).hexdigest())


def avatar_identifier(image_url: str | None) -> Identifier | None:
    """The hash in a Gravatar image URL (also inside a Wayback Machine copy); None otherwise."""
    canonical = canonical_url(image_url) if image_url else None
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    if parts.hostname == "web.archive.org" and (wrapped := _WAYBACK.fullmatch(parts.path)):
        inner = wrapped[1] if "://" in wrapped[1] else wrapped[1].replace(":/", "://", 1)
        parts = urlsplit(canonical_url(inner) or "")
    host = parts.hostname or ""
    if not (host == "gravatar.com" or host.endswith(".gravatar.com")):
        return None
    match = _GRAVATAR_PATH.fullmatch(parts.path.lower())
    if match is None or match[1] in EMPTY_EMAIL_HASHES:
        return None
    return Identifier("avatar", match[1])


def acct_identifier(text: str | None) -> Identifier | None:
    """A fediverse account from "@user@host", "user@host" or "acct:user@host"."""
    if not text:
        return None
    text = text.strip()
    text = text[5:] if text[:5].lower() == "acct:" else text
    user, sep, host = text.removeprefix("@").partition("@")
    host = host_of(f"https://{host}/") if host and "/" not in host else ""
    if not sep or "." not in host or not _ACCT_USER.fullmatch(user):
        return None
    return Identifier("acct", f"{user.lower()}@{host}")


def uid_identifier(uid: str | int | None, host: str | None) -> Identifier | None:
    """A platform's own user id, scoped by its host: `id@host`."""
    uid, host = str(uid if uid is not None else "").strip(), _site(host)
    if not host or not _UID.fullmatch(uid):
        return None
    return Identifier("uid", f"{uid}@{host}")


def handle_identifier(user: str | None, host: str | None) -> Identifier | None:
    """A platform user name, scoped by the platform's host: `user@platform-host`."""
    user, host = (user or "").strip().removeprefix("@").lower(), _site(host)
    if not host or not _UID.fullmatch(user):
        return None
    return Identifier("handle", f"{user}@{host.removeprefix('www.')}")


def profile_handle(url: str | None) -> Identifier | None:
    """A handle read from a profile URL on platforms that show one user on several hosts."""
    canonical = canonical_url(url) if url else None
    if canonical is None or "reddit.com" not in canonical:  # the host is lower-case in it
        return None
    parts = urlsplit(canonical)
    host = parts.hostname or ""
    if (host == "reddit.com" or host.endswith(".reddit.com")) and (
        user := _REDDIT_USER.fullmatch(parts.path)
    ):
        return handle_identifier(user[1], "reddit.com")
    return None


def _site(host_or_url: str | None) -> str:
    text = (host_or_url or "").strip()
    return host_of(text if "://" in text else f"https://{text}/") if text else ""


def make_account(
    site: str,
    name: str | None,
    *,
    url: str | None = None,
    email: str | None = None,
    avatar: str | None = None,
    platform: str = "",
) -> Account | None:
    """An account from a byline; None when the page names nobody (no name, no identifier).

    `site` is the host the author was seen on (a URL is accepted). Identifiers come strongest
    first: profile URL, handle, e-mail hash, avatar hash.
    """
    candidates = (
        url_identifier(url),
        profile_handle(url),
        email_identifier(email),
        avatar_identifier(avatar),
    )
    identifiers = tuple(dict.fromkeys(i for i in candidates if i is not None))
    name = clean_name(name)
    if not name and not identifiers:
        return None
    return Account(
        site=_site(site),
        name=name,
        identifiers=identifiers,
        profile_url=canonical_url(url) if url else None,
        platform=platform,
    )
