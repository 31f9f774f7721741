"""Watchlist loading (SPEC §3): every problem names the file, the key path and the reason,
before anything is fetched; the shipped example loads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ereput.errors import WatchlistError
from ereput.models import Identifier, Space
from ereput.watchlist import (
    canonical_profile_url,
    load_watchlist,
    load_watchlists,
    parse_declared_identifier,
)

ROOT = Path(__file__).resolve().parents[1]

HEAD = """
name = "acme"
[query]
terms = ["acme"]
"""
SOURCE = """
[[sources]]
name = "news"
kind = "feed"
url = "https://news.example.org/feed.xml"
"""
MINIMAL = HEAD + SOURCE


def write(tmp_path: Path, text: str, name: str = "acme.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> WatchlistError:
    path = write(tmp_path, text)
    with pytest.raises(WatchlistError) as info:
        load_watchlists([path])
    assert info.value.file == str(path)
    return info.value


# --- what loads ----------------------------------------------------------------------------


def test_minimal_watchlist_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    [wl] = load_watchlists([path])
    assert wl.name == "acme"
    assert wl.path == str(path)
    assert wl.timezone == "UTC"
    assert wl.retention_days is None
    assert wl.query.terms == ("acme",)
    assert wl.community.spaces == () and wl.community.dunbar_limit == 150
    assert [(s.name, s.kind, s.url, s.space) for s in wl.sources] == [
        ("news", "feed", "https://news.example.org/feed.xml", None)
    ]
    assert wl.rules.window_days == 30
    assert wl.rules.spike_factor == 2.0
    assert wl.alerts.webhook is None and wl.alerts.on == ()
    assert wl.fetch.max_body == 16 * 1024 * 1024


def test_the_shipped_example_loads_with_every_option() -> None:
    wl = load_watchlist(ROOT / "watchlists" / "example.toml")
    assert wl.name == "example"
    assert wl.timezone == "Europe/Paris" and wl.retention_days == 730
    assert wl.query.exclude and wl.query.languages == ("fr", "en")
    assert {m.role for m in wl.community.members} >= {"community_manager", "mediator"}
    julie = wl.community.members[0]
    assert Identifier("acct", "julie@mastodon.example.org") in julie.identifiers
    assert all("@" not in i.value for i in julie.identifiers if i.kind == "email")
    kinds = {s.kind for s in wl.sources}
    assert kinds == {"feed", "blog", "discourse", "forum", "reddit", "hackernews", "mastodon"}
    custom = next(s for s in wl.sources if s.options.get("engine") == "custom")
    assert set(custom.options["selectors"]) == {
        "thread",
        "post",
        "author",
        "author_url",
        "date",
        "body",
        "next",
    }
    assert custom.space is Space.OPEN
    assert any(s.url.startswith("file://") for s in wl.sources)
    assert wl.alerts.webhook and wl.alerts.email and wl.alerts.email.sender
    assert len(wl.alerts.on) == 4
    assert wl.fetch.connect_timeout == 10.0 and wl.fetch.per_host == 2


def test_a_folder_loads_its_toml_files_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL.replace('"acme"', '"zeta"'), "a.toml")
    write(tmp_path, MINIMAL, "b.toml")
    (tmp_path / "notes.txt").write_text("not a watchlist")
    names = [wl.name for wl in load_watchlists([tmp_path])]
    assert names == ["zeta", "acme"]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert len(load_watchlists([tmp_path, path])) == 1


def test_forum_options_and_space_override(tmp_path: Path) -> None:
    [wl] = load_watchlists(
        [
            write(
                tmp_path,
                HEAD
                + """
[[sources]]
name = "board"
kind = "forum"
engine = "phpbb"
url = "file:///srv/saved/board.html"
space = "community"
""",
            )
        ]
    )
    [src] = wl.sources
    assert src.options == {"engine": "phpbb"} and src.space is Space.COMMUNITY


def test_platform_sources_need_no_url(tmp_path: Path) -> None:
    text = HEAD + '[[sources]]\nname = "hn"\nkind = "hackernews"\n'
    [wl] = load_watchlists([write(tmp_path, text)])
    assert wl.sources[0].url.startswith("https://")


def test_alerts_on_defaults_to_everything_when_a_target_is_set(tmp_path: Path) -> None:
    text = MINIMAL + '[alerts]\nwebhook = "https://hooks.example.org/x"\n'
    [wl] = load_watchlists([write(tmp_path, text)])
    assert wl.alerts.on == ("negative_outside", "spike", "flagged_author", "mediator")


# --- identifiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("https://Forum.Acme.io/u/jmarchand/", "url", "https://forum.acme.io/u/jmarchand"),
        ("HTTPS://forum.acme.io:443/u/j#about", "url", "https://forum.acme.io/u/j"),
        ("http://acme.io:80", "url", "http://acme.io/"),
        ("http://acme.io:8080/", "url", "http://acme.io:8080/"),
        ("https://acme.io/member.php?u=12", "url", "https://acme.io/member.php?u=12"),
        ("@Julie@Mastodon.Social", "acct", "julie@mastodon.social"),
        ("acct:julie@mastodon.social", "acct", "julie@mastodon.social"),
        ("handle:JDoe@reddit.com", "handle", "jdoe@reddit.com"),
        ("uid:4242@forum.acme.io", "uid", "4242@forum.acme.io"),
    ],
)
def test_parse_declared_identifier(raw: str, kind: str, value: str) -> None:
    assert parse_declared_identifier(raw) == Identifier(kind, value)


def test_email_is_only_kept_as_a_hash() -> None:
    ident = parse_declared_identifier("mailto: Julie@Acme.io ")
    assert ident.kind == "email"
    assert ident.value == hashlib.sha256(b"julie@acme.io").hexdigest()
    assert parse_declared_identifier("MAILTO:julie@acme.io") == ident


@pytest.mark.parametrize(
    "raw", ["julie@acme.io", "jmarchand", "@julie", "ftp://acme.io/u/j", "https://", "mailto:x"]
)
def test_bad_identifiers(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_declared_identifier(raw)


def test_canonical_profile_url_keeps_root_slash() -> None:
    assert canonical_profile_url("https://ACME.io") == "https://acme.io/"


# --- every error path ----------------------------------------------------------------------


def with_source(body: str) -> str:
    return HEAD + "[[sources]]\n" + body


BAD = [
    # TOML itself
    (
        'name = "acme"\nterms = = 1\n',
        "",
        None,  # checked below: line and column
    ),
    # top level
    ("sorces = []\n" + MINIMAL, "sorces", "unknown key 'sorces' (did you mean 'sources'?)"),
    ("colour = 1\n" + MINIMAL, "colour", "unknown key 'colour'"),
    ("[query]\nterms = ['acme']\n" + SOURCE, "name", "is required"),
    (
        MINIMAL.replace('"acme"', '"Acme Cloud"', 1),
        "name",
        "'Acme Cloud' may only hold lower-case letters, digits and '-' (like 'acme')",
    ),
    ("name = 3\n" + MINIMAL.split("\n", 2)[2], "name", "must be a string, not an integer"),
    (
        'timezone = "Europe/Pari"\n' + MINIMAL,
        "timezone",
        "unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)",
    ),
    ("retention_days = 0\n" + MINIMAL, "retention_days", "must be greater than 0, not 0"),
    ("retention_days = 1.5\n" + MINIMAL, "retention_days", "must be an integer, not a number"),
    (
        "retention_days = true\n" + MINIMAL,
        "retention_days",
        "must be an integer, not true or false",
    ),
    # query
    (
        'name = "acme"\n' + SOURCE,
        "query",
        "is required: a [query] table with the terms to look for",
    ),
    ('name = "acme"\n[query]\n' + SOURCE, "query.terms", "is required"),
    ('name = "acme"\n[query]\nterms = []\n' + SOURCE, "query.terms", "needs at least one entry"),
    (
        'name = "acme"\n[query]\nterms = "acme"\n' + SOURCE,
        "query.terms",
        "must be an array, not a string",
    ),
    (
        'name = "acme"\n[query]\nterms = ["acme", 2]\n' + SOURCE,
        "query.terms[1]",
        "must be a string, not an integer",
    ),
    (
        'name = "acme"\n[query]\nterms = ["acme", "x", "acme (cloud"]\n' + SOURCE,
        "query.terms[2]",
        "unbalanced parenthesis: '(' is never closed at column 6",
    ),
    (
        'name = "acme"\n[query]\nterms = ["acme"]\nexclude = [\'"coyote\']\n' + SOURCE,
        "query.exclude[0]",
        "unclosed quote at column 1",
    ),
    (
        'name = "acme"\n[query]\nterms = ["acme"]\nlanguages = ["fr", "fra"]\n' + SOURCE,
        "query.languages[1]",
        "'fra' is not a two-letter language code (ISO 639-1, like 'fr' or 'en')",
    ),
    (
        'name = "acme"\n[query]\nterms = ["acme"]\nterm = ["x"]\n' + SOURCE,
        "query.term",
        "unknown key 'term' (did you mean 'terms'?)",
    ),
    # community
    (
        MINIMAL + '[community]\nspaces = ["forum.acme.io"]\n',
        "community.spaces[0]",
        "must be a URL starting with http:// or https://, not 'forum.acme.io'",
    ),
    (
        MINIMAL + "[community]\ndunbar_limit = -5\n",
        "community.dunbar_limit",
        "must be greater than 0, not -5",
    ),
    (
        MINIMAL + '[[community.members]]\nname = "Julie"\nrole = "comunity_manager"\n',
        "community.members[0].role",
        "unknown role 'comunity_manager' (did you mean 'community_manager'?) (one of: "
        "customer, designer, brand, mediator, analyst, observer, community_manager)",
    ),
    (
        MINIMAL + '[[community.members]]\nrole = "customer"\n',
        "community.members[0].name",
        "is required",
    ),
    (
        MINIMAL
        + '[[community.members]]\nname = "A"\nrole = "brand"\n'
        + '[[community.members]]\nname = "B"\nrole = "brand"\n'
        + 'identifiers = ["https://x.io/b", "b@x.io"]\n',
        "community.members[1].identifiers[1]",
        "'b@x.io': write 'mailto:name@host' for an e-mail address or '@user@host' for a "
        "fediverse account",
    ),
    (
        MINIMAL + '[[community.members]]\nname = "A"\nrole = "brand"\nidentifier = []\n',
        "community.members[0].identifier",
        "unknown key 'identifier' (did you mean 'identifiers'?)",
    ),
    # sources
    (HEAD, "sources", "is required: at least one [[sources]] table"),
    ('sources = "x"\n' + HEAD, "sources", "must be an array, not a string"),
    (
        with_source('name = "a"\nkinds = "feed"\nurl = "https://x.io/"\n'),
        "sources[0].kinds",
        "unknown key 'kinds' (did you mean 'kind'?)",
    ),
    (
        with_source('name = "a"\nurl = "https://x.io/"\n'),
        "sources[0].kind",
        "is required (one of: feed, blog, discourse, forum, reddit, hackernews, mastodon, "
        "activitypub)",
    ),
    (
        SOURCE.join([HEAD, "[[sources]]\nname = 'b'\nkind = 'rss'\nurl = 'https://x.io/'\n"]),
        "sources[1].kind",
        "unknown kind 'rss' (one of: feed, blog, discourse, forum, reddit, hackernews, mastodon, "
        "activitypub)",
    ),
    (
        with_source('name = "a"\nkind = "blogg"\nurl = "https://x.io/"\n'),
        "sources[0].kind",
        "unknown kind 'blogg' (did you mean 'blog'?) (one of: feed, blog, discourse, forum, "
        "reddit, hackernews, mastodon, activitypub)",
    ),
    (
        with_source('name = "my feed"\nkind = "feed"\nurl = "https://x.io/"\n'),
        "sources[0].name",
        "'my feed' may only hold letters, digits, '.', '_' and '-'",
    ),
    (
        with_source('kind = "feed"\nurl = "https://x.io/"\n'),
        "sources[0].name",
        "is required",
    ),
    (
        MINIMAL + SOURCE,
        "sources[1].name",
        "'news' is already the name of sources[0]",
    ),
    (
        with_source('name = "a"\nkind = "feed"\n'),
        "sources[0].url",
        "is required",
    ),
    (
        with_source('name = "a"\nkind = "feed"\nurl = "ftp://x.io/feed"\n'),
        "sources[0].url",
        "must be a URL starting with http:// or https:// or file://, not 'ftp://x.io/feed'",
    ),
    (
        with_source('name = "a"\nkind = "feed"\nurl = "https://x.io/"\nspace = "public"\n'),
        "sources[0].space",
        "unknown space 'public' (one of: community, open)",
    ),
    (
        with_source('name = "a"\nkind = "feed"\nurl = "https://x.io/"\nengine = "phpbb"\n'),
        "sources[0].engine",
        "unknown key 'engine'",
    ),
    (
        with_source('name = "a"\nkind = "forum"\nurl = "https://x.io/"\n'),
        "sources[0].engine",
        "is required",
    ),
    (
        with_source('name = "a"\nkind = "forum"\nengine = "phpBB3"\nurl = "https://x.io/"\n'),
        "sources[0].engine",
        "unknown engine 'phpBB3' (did you mean 'phpbb'?) (one of: phpbb, xenforo, vbulletin, "
        "smf, flarum, nodebb, stackexchange, custom)",
    ),
    (
        with_source('name = "a"\nkind = "forum"\nengine = "custom"\nurl = "https://x.io/"\n'),
        "sources[0].selectors",
        "is required with engine = 'custom'",
    ),
    (
        with_source(
            'name = "a"\nkind = "forum"\nengine = "custom"\nurl = "https://x.io/"\n'
            '[sources.selectors]\npost = "div.post"\n'
        ),
        "sources[0].selectors.body",
        "is required: the CSS selector of each post and its text",
    ),
    (
        with_source(
            'name = "a"\nkind = "forum"\nengine = "custom"\nurl = "https://x.io/"\n'
            '[sources.selectors]\npost = "div.post"\nbody = ".b"\nauthors = ".a"\n'
        ),
        "sources[0].selectors.authors",
        "unknown key 'authors' (did you mean 'author'?)",
    ),
    (
        with_source(
            'name = "a"\nkind = "forum"\nengine = "phpbb"\nurl = "https://x.io/"\n'
            '[sources.selectors]\npost = "div.post"\n'
        ),
        "sources[0].selectors",
        "only go with engine = 'custom'",
    ),
    # rules
    (MINIMAL + "[rules]\nwindow_days = 0\n", "rules.window_days", "must be greater than 0, not 0"),
    (
        MINIMAL + "[rules]\ntroll_max_sentiment = -3\n",
        "rules.troll_max_sentiment",
        "must lie between -1 and 1, not -3.0",
    ),
    (
        MINIMAL + "[rules]\ntroll_min_mention = 3\n",
        "rules.troll_min_mention",
        "unknown key 'troll_min_mention' (did you mean 'troll_min_mentions'?)",
    ),
    ("rules = 3\n" + MINIMAL, "rules", "must be a table, not an integer"),
    (
        MINIMAL + "[rules]\nspike_factor = 0.5\n",
        "rules.spike_factor",
        "must lie between 1 and 100, not 0.5",
    ),
    (
        MINIMAL + "[rules]\nspike_factor = 0\n",
        "rules.spike_factor",
        "must be greater than 0, not 0",
    ),
    # alerts
    (
        MINIMAL + '[alerts]\nwebhook = "hooks.example.org"\n',
        "alerts.webhook",
        "must be a URL starting with http:// or https://, not 'hooks.example.org'",
    ),
    (
        MINIMAL + '[alerts]\nwebhook = "https://h.example.org/"\non = ["negative"]\n',
        "alerts.on[0]",
        "unknown alert 'negative' (did you mean 'negative_outside'?) (one of: "
        "negative_outside, spike, flagged_author, mediator)",
    ),
    (
        MINIMAL + '[alerts]\non = ["spike"]\n',
        "alerts.on",
        "alerts need somewhere to go: a webhook or an email table",
    ),
    (
        MINIMAL + "[alerts.email]\nto = []\n",
        "alerts.email.to",
        "needs at least one address",
    ),
    (
        MINIMAL + '[alerts.email]\nto = ["veille"]\n',
        "alerts.email.to[0]",
        "'veille' is not an e-mail address",
    ),
    (
        MINIMAL + '[alerts.email]\nto = ["v@acme.io"]\nsmtp = "http://mail.acme.io"\n',
        "alerts.email.smtp",
        "must be a URL starting with smtp:// or smtps://, not 'http://mail.acme.io'",
    ),
    (
        MINIMAL + '[alerts.email]\nto = ["v@acme.io"]\nsender = "e@acme.io"\n',
        "alerts.email.sender",
        "unknown key 'sender'",
    ),
    # fetch
    (
        MINIMAL + "[fetch]\nconnect_timeout = 0\n",
        "fetch.connect_timeout",
        "must be greater than 0, not 0",
    ),
    (MINIMAL + "[fetch]\nmax_body = 1.5\n", "fetch.max_body", "must be an integer, not a number"),
    (MINIMAL + "[fetch]\nper_host = -1\n", "fetch.per_host", "must be greater than 0, not -1"),
    (
        MINIMAL + '[fetch]\ndeadline = "60s"\n',
        "fetch.deadline",
        "must be an integer or a number, not a string",
    ),
    (
        MINIMAL + "[fetch]\ntimeout = 5\n",
        "fetch.timeout",
        "unknown key 'timeout' (did you mean 'read_timeout'?)",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD, ids=[b[1] or "toml" for b in BAD])
def test_errors_name_file_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str | None
) -> None:
    err = error(tmp_path, text)
    assert err.key == key
    if reason is None:
        assert err.reason.startswith("invalid TOML at line 2, column 9: ")
    else:
        assert err.reason == reason
    assert str(err).startswith(str(tmp_path / "acme.toml"))


def test_zero_redirects_and_retries_are_allowed(tmp_path: Path) -> None:
    [wl] = load_watchlists([write(tmp_path, MINIMAL + "[fetch]\nmax_redirects = 0\nretries = 0\n")])
    assert wl.fetch.max_redirects == 0 and wl.fetch.retries == 0


def test_fetch_numbers_accept_integers_for_seconds(tmp_path: Path) -> None:
    [wl] = load_watchlists([write(tmp_path, MINIMAL + "[fetch]\nread_timeout = 5\n")])
    assert wl.fetch.read_timeout == 5.0 and isinstance(wl.fetch.read_timeout, float)


def test_toml_error_at_the_end(tmp_path: Path) -> None:
    err = error(tmp_path, 'name = "acme"\nterms = [')
    assert err.reason.startswith("invalid TOML at the end of the file: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_bytes(MINIMAL.encode("utf-8") + b"title = '\xff'\n")
    with pytest.raises(WatchlistError) as info:
        load_watchlists([path])
    assert (info.value.file, info.value.key, info.value.reason) == (
        str(path),
        "",
        "is not UTF-8 text",
    )


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(WatchlistError) as info:
        load_watchlists([path])
    assert (info.value.file, info.value.key, info.value.reason) == (
        str(path),
        "",
        "no such file or folder",
    )


def test_folder_without_watchlists(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(WatchlistError) as info:
        load_watchlists([tmp_path])
    assert info.value.file == str(tmp_path)
    assert info.value.reason == f"no watchlist (*.toml) in {tmp_path}"


def test_two_watchlists_with_one_name(tmp_path: Path) -> None:
    first = write(tmp_path, MINIMAL, "a.toml")
    second = write(tmp_path, MINIMAL, "b.toml")
    with pytest.raises(WatchlistError) as info:
        load_watchlists([tmp_path])
    assert (info.value.file, info.value.key) == (str(second), "name")
    assert info.value.reason == f"'acme' is already the name of {first}"


def test_email_addresses_never_reach_the_model(tmp_path: Path) -> None:
    text = MINIMAL + (
        '[[community.members]]\nname = "Julie"\nrole = "community_manager"\n'
        'identifiers = ["mailto:Julie@Acme.io"]\n'
    )
    [wl] = load_watchlists([write(tmp_path, text)])
    assert "julie@acme.io" not in repr(wl).lower()
