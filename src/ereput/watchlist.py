"""Load and validate watchlists (SPEC §3) before anything touches the network.

A watchlist is refused as a whole on its first problem, with the file, the key path
(`sources[3].kind`, 0-based like the TOML arrays a reader counts) and a reason a community
manager can act on; an unknown key gets a "did you mean" when one is close.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ereput.errors import QuerySyntaxError, WatchlistError
from ereput.fetchers.base import known_kinds
from ereput.identifiers import email_identifier, url_identifier
from ereput.matching import parse_entry
from ereput.models import (
    ROLES,
    Alerts,
    Community,
    EmailAlert,
    FetchLimits,
    Identifier,
    Member,
    Query,
    Rules,
    Source,
    Space,
    Watchlist,
)
from ereput.urls import canonical_url

T = TypeVar("T")

NAME = re.compile(r"[a-z0-9-]+")
SOURCE_NAME = re.compile(r"[A-Za-z0-9._-]+")
LANGUAGE = re.compile(r"[a-z]{2}")
ENGINES = (
    "phpbb",
    "xenforo",
    "vbulletin",
    "smf",
    "flarum",
    "nodebb",
    "stackexchange",
    "custom",
)
SELECTORS = ("thread", "post", "author", "author_url", "date", "body", "next")
# Options of the forum and social kinds: a string, or a list of strings where several
# searches, tags or accounts may be read by one source.
_TEXT_OPTIONS = frozenset({"category", "tag", "subreddit"})
_LIST_OPTIONS = frozenset({"search", "account"})
_SPACES = tuple(s.value for s in Space)
ALERT_KINDS = ("negative_outside", "spike", "flagged_author", "mediator")
# Kind-specific source keys, kept in Source.options. A new source kind that needs options
# adds its line here.
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "forum": ("engine", "selectors", "max_pages", "category", "tag"),
    "discourse": ("max_pages", "category", "search"),
    "reddit": ("search", "subreddit", "max_pages"),
    "hackernews": ("search", "max_pages"),
    "mastodon": ("tag", "account", "max_pages"),
    "activitypub": ("max_pages",),
    "blog": ("engine", "max_pages"),
}
BLOG_ENGINES = ("auto", "wordpress", "blogger", "generic")
# Platforms whose public API lives at one well-known place: `url` may be left out.
DEFAULT_URLS = {"reddit": "https://www.reddit.com/", "hackernews": "https://news.ycombinator.com/"}

_TOML_TYPES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def _type_name(value: Any) -> str:
    for t, name in _TOML_TYPES.items():
        if type(value) is t:
            return name
    return "a date or time"


# --- identifiers ---------------------------------------------------------------------------


def canonical_profile_url(url: str) -> str:
    """A profile or website URL in the one form identifiers are compared in (the same rule as
    for the accounts pages show). Raises ValueError when it is not an http(s) URL with a host."""
    ident = url_identifier(url.strip())
    if ident is None:
        raise ValueError("not an http(s) URL")
    return ident.value


_ACCT = re.compile(r"([^@\s/]+)@([^@\s/]+\.[^@\s/]+)")


def _acct(value: str, what: str) -> str:
    if not _ACCT.fullmatch(value):
        raise ValueError(f"{what} must look like user@host.example")
    return value.lower()


def parse_declared_identifier(s: str) -> Identifier:
    """An identifier as a watchlist declares it for a member: `https://…` (profile page or
    website), `@user@host` or `acct:user@host` (fediverse), `mailto:x@y` (kept only as the
    SHA-256 of the address: the address itself is never stored), `handle:user@platform-host`,
    `uid:id@host`. Raises ValueError with a reason."""
    s = s.strip()
    low = s.lower()
    if low.startswith(("http://", "https://")):
        return Identifier("url", canonical_profile_url(s))
    if s.startswith("@"):
        return Identifier("acct", _acct(s[1:], "a fediverse account"))
    if low.startswith("acct:"):
        return Identifier("acct", _acct(s[5:].removeprefix("@"), "a fediverse account"))
    if low.startswith("mailto:"):
        email = email_identifier(s)
        if email is None:
            raise ValueError("an e-mail must look like mailto:name@example.org")
        return email
    if low.startswith("handle:"):
        return Identifier("handle", _acct(s[7:].removeprefix("@"), "a handle"))
    if low.startswith("uid:"):
        return Identifier("uid", _acct(s[4:], "a platform user id"))
    if "@" in s:
        raise ValueError(
            "write 'mailto:name@host' for an e-mail address or '@user@host' for a fediverse account"
        )
    raise ValueError(
        "not an identifier: give a profile URL (https://…), a fediverse account "
        "(@user@host), an e-mail (mailto:…), handle:user@host or uid:id@host"
    )


# --- validation helpers --------------------------------------------------------------------


class _Checker:
    """Typed reads from the decoded TOML that raise WatchlistError with the key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, reason: str) -> WatchlistError:
        return WatchlistError(self.file, key, reason)

    def keys(self, table: dict[str, Any], prefix: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                raise self.fail(
                    _join(prefix, key), f"unknown key {key!r}{_did_you_mean(key, allowed)}"
                )

    def get(
        self,
        table: dict[str, Any],
        prefix: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        path = _join(prefix, key)
        if key not in table:
            if default is ...:
                raise self.fail(path, "is required")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML integers are fine where a number is expected; booleans are never numbers.
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            want = " or ".join(_TOML_TYPES[k] for k in kinds)
            raise self.fail(path, f"must be {want}, not {_type_name(value)}")
        return value

    def table(self, table: dict[str, Any], prefix: str, key: str) -> dict[str, Any]:
        return self.get(table, prefix, key, dict, {})  # type: ignore[no-any-return]

    def positive(self, table: dict[str, Any], prefix: str, key: str, default: T) -> T:
        kind: tuple[type, ...] = (int,) if isinstance(default, int) else (int, float)
        value = self.get(table, prefix, key, kind, default)
        if not value > 0:  # also refuses nan
            raise self.fail(_join(prefix, key), f"must be greater than 0, not {value}")
        return type(default)(value)  # type: ignore[call-arg]

    def strings(
        self, table: dict[str, Any], prefix: str, key: str, *, required: bool = False
    ) -> list[str]:
        values = self.get(table, prefix, key, list, ... if required else [])
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.fail(
                    f"{_join(prefix, key)}[{i}]", f"must be a string, not {_type_name(v)}"
                )
        return values  # type: ignore[no-any-return]

    def choice(self, value: str, key: str, choices: Iterable[str], what: str) -> str:
        choices = tuple(choices)
        if value not in choices:
            raise self.fail(
                key,
                f"unknown {what} {value!r}{_did_you_mean(value, choices)}"
                f" (one of: {', '.join(choices)})",
            )
        return value

    def url(self, value: str, key: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
        parts = urlsplit(value)
        ok = parts.scheme.lower() in schemes and (
            bool(parts.netloc) if parts.scheme.lower() != "file" else bool(parts.path)
        )
        if ok:
            try:
                parts.port  # noqa: B018 -- raises ValueError on a bad port
            except ValueError:
                ok = False
        if not ok:
            want = " or ".join(f"{s}://" for s in schemes)
            raise self.fail(key, f"must be a URL starting with {want}, not {value!r}")
        return value

    def each_table(self, table: dict[str, Any], prefix: str, key: str) -> list[dict[str, Any]]:
        values = self.get(table, prefix, key, list, [])
        for i, v in enumerate(values):
            if not isinstance(v, dict):
                raise self.fail(
                    f"{_join(prefix, key)}[{i}]", f"must be a table, not {_type_name(v)}"
                )
        return values  # type: ignore[no-any-return]


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


# --- the sections --------------------------------------------------------------------------

TOP_KEYS = (
    "name",
    "title",
    "timezone",
    "retention_days",
    "query",
    "community",
    "sources",
    "rules",
    "alerts",
    "fetch",
)


def _query(c: _Checker, doc: dict[str, Any]) -> Query:
    if "query" not in doc:
        raise c.fail("query", "is required: a [query] table with the terms to look for")
    q = c.get(doc, "", "query", dict)
    c.keys(q, "query", ("terms", "exclude", "languages"))
    terms = c.strings(q, "query", "terms", required=True)
    if not terms:
        raise c.fail("query.terms", "needs at least one entry")
    exclude = c.strings(q, "query", "exclude")
    for key, entries in (("query.terms", terms), ("query.exclude", exclude)):
        for i, entry in enumerate(entries):
            try:
                parse_entry(entry)
            except QuerySyntaxError as e:
                raise c.fail(f"{key}[{i}]", f"{e.reason} at column {e.column}") from None
    languages = [lang.lower() for lang in c.strings(q, "query", "languages")]
    for i, lang in enumerate(languages):
        if not LANGUAGE.fullmatch(lang):
            raise c.fail(
                f"query.languages[{i}]",
                f"{lang!r} is not a two-letter language code (ISO 639-1, like 'fr' or 'en')",
            )
    return Query(tuple(terms), tuple(exclude), tuple(languages))


def _community(c: _Checker, doc: dict[str, Any]) -> Community:
    t = c.table(doc, "", "community")
    c.keys(t, "community", ("spaces", "dunbar_limit", "members"))
    spaces = c.strings(t, "community", "spaces")
    for i, space in enumerate(spaces):
        c.url(space, f"community.spaces[{i}]")
    # Compared with canonical item URLs: give the prefixes the same form.
    spaces = [canonical_url(space) or space for space in spaces]
    members = []
    for i, m in enumerate(c.each_table(t, "community", "members")):
        prefix = f"community.members[{i}]"
        c.keys(m, prefix, ("name", "role", "identifiers"))
        name = c.get(m, prefix, "name", str)
        if not name.strip():
            raise c.fail(f"{prefix}.name", "must not be empty")
        role = c.choice(c.get(m, prefix, "role", str), f"{prefix}.role", ROLES, "role")
        ids = []
        for j, raw in enumerate(c.strings(m, prefix, "identifiers")):
            try:
                ids.append(parse_declared_identifier(raw))
            except ValueError as e:
                raise c.fail(f"{prefix}.identifiers[{j}]", f"{raw!r}: {e}") from None
        members.append(Member(name.strip(), role, tuple(dict.fromkeys(ids))))
    dunbar = c.positive(t, "community", "dunbar_limit", Community().dunbar_limit)
    return Community(tuple(spaces), tuple(members), dunbar)


def _selectors(c: _Checker, src: dict[str, Any], prefix: str) -> dict[str, str]:
    if "selectors" not in src:
        raise c.fail(f"{prefix}.selectors", "is required with engine = 'custom'")
    sel = c.get(src, prefix, "selectors", dict)
    key = f"{prefix}.selectors"
    c.keys(sel, key, SELECTORS)
    for name, value in sel.items():
        c.get(sel, key, name, str)
        if not value.strip():
            raise c.fail(f"{key}.{name}", "must be a CSS selector, not empty")
    for needed in ("post", "body"):
        if needed not in sel:
            raise c.fail(
                f"{key}.{needed}", "is required: the CSS selector of each post and its text"
            )
    return dict(sel)


def _platform_options(
    c: _Checker, src: dict[str, Any], prefix: str, kind: str, opts: dict[str, Any]
) -> None:
    """`max_pages`, `category`, `tag`, `subreddit` (strings), `search`, `account` (a string
    or a list of strings; `tag` too for mastodon)."""
    for key in KIND_OPTIONS[kind]:
        if key not in src or key in ("engine", "selectors"):
            continue
        if key == "max_pages":
            opts[key] = c.positive(src, prefix, key, 30)
        elif key in _LIST_OPTIONS or (kind == "mastodon" and key == "tag"):
            value = src[key]
            values = [value] if isinstance(value, str) else c.strings(src, prefix, key)
            if not values or not all(v.strip() for v in values):
                raise c.fail(f"{prefix}.{key}", "must not be empty")
            opts[key] = values
        elif key in _TEXT_OPTIONS:
            value = c.get(src, prefix, key, str)
            if not value.strip():
                raise c.fail(f"{prefix}.{key}", "must not be empty")
            opts[key] = value.strip()


def _with_query(sources: tuple[Source, ...], query: Query) -> tuple[Source, ...]:
    """Search sources that name nothing to read search for the query's terms."""
    out = []
    for s in sources:
        bare = not any(k in s.options for k in ("search", "subreddit", "tag", "account"))
        if s.kind in ("reddit", "hackernews") and bare and "?" not in s.url:
            s = Source(s.name, s.kind, s.url, s.space, {**s.options, "search": list(query.terms)})
        elif s.kind == "mastodon" and bare and "/api/" not in s.url:
            tags = [t.lstrip("#") for t in query.terms if re.fullmatch(r"#\w+", t)]
            if tags:
                s = Source(s.name, s.kind, s.url, s.space, {**s.options, "tag": tags})
        out.append(s)
    return tuple(out)


def _sources(c: _Checker, doc: dict[str, Any]) -> tuple[Source, ...]:
    if "sources" not in doc:
        raise c.fail("sources", "is required: at least one [[sources]] table")
    c.get(doc, "", "sources", list)
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(c.each_table(doc, "", "sources")):
        prefix = f"sources[{i}]"
        kind = s.get("kind")
        if kind is not None:  # an unknown kind first: it decides which keys are known
            kind = c.choice(c.get(s, prefix, "kind", str), f"{prefix}.kind", known_kinds(), "kind")
        c.keys(s, prefix, ("name", "kind", "url", "space", *KIND_OPTIONS.get(kind or "", ())))
        if kind is None:
            raise c.fail(f"{prefix}.kind", f"is required (one of: {', '.join(known_kinds())})")
        name = c.get(s, prefix, "name", str)
        if not SOURCE_NAME.fullmatch(name):
            raise c.fail(
                f"{prefix}.name",
                f"{name!r} may only hold letters, digits, '.', '_' and '-'",
            )
        if name in seen:
            raise c.fail(f"{prefix}.name", f"{name!r} is already the name of sources[{seen[name]}]")
        seen[name] = i
        url = c.get(s, prefix, "url", str, DEFAULT_URLS.get(kind, ...))
        c.url(url, f"{prefix}.url", ("http", "https", "file"))
        space = None
        if "space" in s:
            value = c.choice(c.get(s, prefix, "space", str), f"{prefix}.space", _SPACES, "space")
            space = Space(value)
        opts: dict[str, Any] = {}
        if kind == "forum":
            engine = c.get(s, prefix, "engine", str)
            opts["engine"] = c.choice(engine, f"{prefix}.engine", ENGINES, "engine")
            if engine == "custom":
                opts["selectors"] = _selectors(c, s, prefix)
            elif "selectors" in s:
                raise c.fail(f"{prefix}.selectors", "only go with engine = 'custom'")
        if kind == "blog":
            if "engine" in s:
                engine = c.get(s, prefix, "engine", str)
                opts["engine"] = c.choice(engine, f"{prefix}.engine", BLOG_ENGINES, "engine")
            if "max_pages" in s:
                opts["max_pages"] = c.positive(s, prefix, "max_pages", 20)
        if kind in ("forum", "discourse", "reddit", "hackernews", "mastodon", "activitypub"):
            _platform_options(c, s, prefix, kind, opts)
        sources.append(Source(name, kind, url, space, opts))
    return tuple(sources)


def _rules(c: _Checker, doc: dict[str, Any]) -> Rules:
    t = c.table(doc, "", "rules")
    d = Rules()
    c.keys(t, "rules", _field_names(d))
    sentiment = float(c.get(t, "rules", "troll_max_sentiment", (int, float), d.troll_max_sentiment))
    if not -1 <= sentiment <= 1:
        raise c.fail("rules.troll_max_sentiment", f"must lie between -1 and 1, not {sentiment}")
    spike_factor = c.positive(t, "rules", "spike_factor", d.spike_factor)
    if not 1 <= spike_factor <= 100:
        raise c.fail("rules.spike_factor", f"must lie between 1 and 100, not {spike_factor}")
    return Rules(
        window_days=c.positive(t, "rules", "window_days", d.window_days),
        troll_min_mentions=c.positive(t, "rules", "troll_min_mentions", d.troll_min_mentions),
        troll_max_sentiment=sentiment,
        invite_min_mentions=c.positive(t, "rules", "invite_min_mentions", d.invite_min_mentions),
        spike_factor=spike_factor,
    )


def _field_names(obj: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(obj))


def _address(c: _Checker, value: str, key: str) -> str:
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise c.fail(key, f"{value!r} is not an e-mail address")
    return value


_EMAIL = EmailAlert(to=())  # for its defaults


def _alerts(c: _Checker, doc: dict[str, Any]) -> Alerts:
    t = c.table(doc, "", "alerts")
    c.keys(t, "alerts", ("webhook", "email", "on"))
    webhook = c.get(t, "alerts", "webhook", str, None)
    if webhook is not None:
        c.url(webhook, "alerts.webhook")
    email = None
    if "email" in t:
        e = c.get(t, "alerts", "email", dict)
        c.keys(e, "alerts.email", ("to", "smtp", "from"))
        to = c.strings(e, "alerts.email", "to", required=True)
        if not to:
            raise c.fail("alerts.email.to", "needs at least one address")
        for i, address in enumerate(to):
            _address(c, address, f"alerts.email.to[{i}]")
        smtp = c.url(
            c.get(e, "alerts.email", "smtp", str, _EMAIL.smtp),
            "alerts.email.smtp",
            ("smtp", "smtps"),
        )
        sender = _address(
            c, c.get(e, "alerts.email", "from", str, _EMAIL.sender), "alerts.email.from"
        )
        email = EmailAlert(tuple(to), smtp, sender)
    if "on" in t:
        on = c.strings(t, "alerts", "on")
        for i, kind in enumerate(on):
            c.choice(kind, f"alerts.on[{i}]", ALERT_KINDS, "alert")
        if on and webhook is None and email is None:
            raise c.fail("alerts.on", "alerts need somewhere to go: a webhook or an email table")
    else:
        on = list(ALERT_KINDS) if webhook or email else []  # a target alone means every alert
    return Alerts(webhook, email, tuple(dict.fromkeys(on)))


def _fetch(c: _Checker, doc: dict[str, Any]) -> FetchLimits:
    t = c.table(doc, "", "fetch")
    d = FetchLimits()
    c.keys(t, "fetch", _field_names(d))
    values: dict[str, Any] = {}
    for key in t:
        default = getattr(d, key)
        if key in ("max_redirects", "retries") and type(t[key]) is int and t[key] == 0:
            values[key] = 0  # "never" is a fair choice for these two
        else:
            values[key] = c.positive(t, "fetch", key, default)
    return FetchLimits(**values)


def _name(c: _Checker, doc: dict[str, Any]) -> str:
    name = c.get(doc, "", "name", str)
    if not NAME.fullmatch(name):
        raise c.fail(
            "name", f"{name!r} may only hold lower-case letters, digits and '-' (like 'acme')"
        )
    return name  # type: ignore[no-any-return]


def _timezone(c: _Checker, doc: dict[str, Any]) -> str:
    tz = c.get(doc, "", "timezone", str, "UTC")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise c.fail(
            "timezone",
            f"unknown time zone {tz!r}{_did_you_mean(tz, zoneinfo.available_timezones())}",
        ) from None
    return tz  # type: ignore[no-any-return]


def parse_watchlist(doc: dict[str, Any], file: str) -> Watchlist:
    """Validate decoded TOML into a Watchlist; raises WatchlistError naming `file`."""
    c = _Checker(file)
    c.keys(doc, "", TOP_KEYS)
    name = _name(c, doc)
    title = c.get(doc, "", "title", str, "")
    timezone = _timezone(c, doc)
    retention = c.positive(doc, "", "retention_days", 0) if "retention_days" in doc else None
    return Watchlist(
        name=name,
        title=title,
        timezone=timezone,
        retention_days=retention,
        query=(query := _query(c, doc)),
        community=_community(c, doc),
        sources=tuple(
            dataclasses.replace(s, timezone=timezone) for s in _with_query(_sources(c, doc), query)
        ),
        rules=_rules(c, doc),
        alerts=_alerts(c, doc),
        fetch=_fetch(c, doc),
        path=file,
    )


_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate one watchlist file."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise WatchlistError(file, "", f"cannot be read: {e.strerror or e}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WatchlistError(file, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        if m := _TOML_POSITION.search(msg):
            where = f"line {m[1]}, column {m[2]}" if m[1] else "the end of the file"
            msg = f"{where}: {msg[: m.start()]}"
        raise WatchlistError(file, "", f"invalid TOML at {msg}") from None
    return parse_watchlist(doc, file)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.toml") if p.is_file())
        if not files:
            raise WatchlistError(str(path), "", f"no watchlist (*.toml) in {path}")
        return files
    if not path.exists():
        raise WatchlistError(str(path), "", "no such file or folder")
    return [path]


def load_watchlists(paths: Iterable[Path]) -> list[Watchlist]:
    """Every watchlist of `paths` (files, or folders of `*.toml` read in name order), all
    validated before anything else runs. A file named twice is read once; two watchlists
    with one `name` are an error, since the name keys the database."""
    seen_files: set[Path] = set()
    by_name: dict[str, Watchlist] = {}
    for path in paths:
        for file in _files(Path(path)):
            if (key := file.resolve()) in seen_files:
                continue
            seen_files.add(key)
            wl = load_watchlist(file)
            if wl.name in by_name:
                raise WatchlistError(
                    str(file), "name", f"{wl.name!r} is already the name of {by_name[wl.name].path}"
                )
            by_name[wl.name] = wl
    return list(by_name.values())
