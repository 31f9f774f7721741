"""Properties that must hold for every input, checked with hypothesis: the query language
(SPEC §3), URL canonicalisation (§7), date parsing (§4 dates, §7 absurd dates) and
identifier normalisation (§2). Functions fed by hostile pages never raise."""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import string
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ereput.dates import EARLIEST, parse_when, plausible
from ereput.errors import QuerySyntaxError, UsageError
from ereput.fetchers.blog_parse import parse_date_text
from ereput.fetchers.feed_parse import localized_rfc822, parse_feed, read_date
from ereput.identifiers import (
    MAX_NAME,
    acct_identifier,
    clean_name,
    email_identifier,
    handle_identifier,
    url_identifier,
)
from ereput.matching import compile_query, parse_entry
from ereput.models import Query
from ereput.urls import _canonical, canonical_url, host_of

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# --- query language ----------------------------------------------------------------------------

lower_word = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6).filter(
    lambda w: w != "or"
)
vocabulary = st.sampled_from(["acme", "cloud", "hosting", "coyote", "panne", "serveur"])
texts = st.lists(st.one_of(vocabulary, lower_word), max_size=8).map(" ".join)


def matches(entry: str, text: str) -> bool:
    return bool(compile_query(Query(terms=(entry,))).match("", text))


@given(st.text(max_size=60))
def test_any_entry_parses_or_names_a_column_inside_it(entry: str) -> None:
    try:
        parse_entry(entry)
    except QuerySyntaxError as e:
        assert 1 <= e.column <= len(entry) + 1
        assert e.entry == entry


@given(st.text(max_size=40), st.text(max_size=200))
def test_matching_any_text_never_raises(entry: str, text: str) -> None:
    try:
        matcher = compile_query(Query(terms=(entry,)))
    except QuerySyntaxError:
        return
    assert matcher.match(text[:100], text) in ([], [entry])


@given(vocabulary, vocabulary, texts)
def test_and_is_commutative_and_or_is_a_disjunction(a: str, b: str, text: str) -> None:
    assert matches(f"{a} {b}", text) == matches(f"{b} {a}", text)
    assert matches(f"{a} {b}", text) == (matches(a, text) and matches(b, text))
    assert matches(f"{a} OR {b}", text) == (matches(a, text) or matches(b, text))
    assert matches(f"({a} OR {b}) {a}", text) == matches(a, text)


@given(vocabulary, vocabulary, texts)
def test_exclusion_is_negation(a: str, b: str, text: str) -> None:
    assume(a != b)
    assert matches(f"{a} -{b}", text) == (matches(a, text) and not matches(b, text))
    kept = compile_query(Query(terms=(a,), exclude=(b,))).match("", text)
    assert bool(kept) == (matches(a, text) and not matches(b, text))


@given(st.lists(lower_word, min_size=1, max_size=4), texts, texts)
def test_a_phrase_matches_wherever_its_words_appear_in_order(
    words: list[str], before: str, after: str
) -> None:
    phrase = " ".join(words)
    assert matches(f'"{phrase}"', f"{before} {phrase} {after}")
    assert matches(f'"{phrase}"', f"{before} {phrase.upper()}, {after}")
    if len(words) == 1:  # glued to other letters it is not there (word boundaries)
        assert not matches(f'"{phrase}"', f"x{phrase}x")


@given(vocabulary, texts)
def test_case_and_accents_do_not_change_a_match(word: str, text: str) -> None:
    accented = text.replace("e", "é").replace("a", "à")
    assert matches(word, text) == matches(word, text.upper()) == matches(word.upper(), text)
    assert matches(word, text) == matches(word, accented)


# --- URL canonicalisation ----------------------------------------------------------------------

host_label = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8)
hosts = st.lists(host_label, min_size=2, max_size=3).map(".".join)
segments = st.lists(
    # (a space ends no segment: WHATWG strips it at the end of a URL, not before a "#")
    st.text(alphabet=string.ascii_letters + string.digits + "-._~%é ", max_size=8).map(str.strip),
    max_size=4,
)
params = st.lists(
    st.tuples(
        st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=5).filter(
            lambda k: not k.startswith("utm_")
        ),
        st.text(alphabet=string.ascii_letters + string.digits, max_size=5),
    ),
    max_size=3,
)
tracking = st.lists(
    st.sampled_from(
        ["utm_source=x", "utm_medium=rss", "UTM_Campaign=y", "fbclid=abc", "gclid=1", "mc_cid=2"]
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def web_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    path = "/" + "/".join(draw(segments))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    return f"{scheme}://{draw(hosts)}{path}" + (f"?{query}" if query else "")


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=100)))
def test_canonical_url_never_raises_and_gives_only_web_urls(url: str, base: str | None) -> None:
    c = canonical_url(url, base)
    if c is not None:
        assert c.startswith(("http://", "https://"))
        assert not any(ch.isspace() or ord(ch) < 32 for ch in c)
        assert canonical_url(c) == c  # idempotent
    assert isinstance(host_of(url), str)


@given(web_urls())
def test_canonical_url_is_idempotent_and_the_fast_path_agrees(url: str) -> None:
    c = canonical_url(url)
    assert c is not None
    assert canonical_url(c) == c
    assert _canonical(url, None) == c


@given(web_urls(), tracking, st.sampled_from(["", "#top", "#respond", "#more-12"]))
def test_tracking_parameters_and_navigation_fragments_are_dropped(
    url: str, extra: list[str], fragment: str
) -> None:
    joined = url + ("&" if "?" in url else "?") + "&".join(extra) + fragment
    assert canonical_url(joined) == canonical_url(url)


@given(web_urls(), st.sampled_from(["#comment-12", "#p345", "#post-7", "#post_8", "#c9"]))
def test_item_fragments_stay(url: str, fragment: str) -> None:
    assert canonical_url(url + fragment) == canonical_url(url) + fragment  # type: ignore[operator]


@given(hosts, segments)
def test_host_case_and_default_port_do_not_matter(host: str, path: list[str]) -> None:
    tail = "/" + "/".join(path)
    a = canonical_url(f"https://{host.lower()}{tail}")
    assert canonical_url(f"HTTPS://{host.upper()}:443{tail}") == a
    assert canonical_url(f"https://{host}{tail}") == a
    assert canonical_url(f"http://{host}:80{tail}") == canonical_url(f"http://{host}{tail}")


# --- dates ---------------------------------------------------------------------------------------

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
zones = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Apia"])
instants = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2026, 11, 24), timezones=st.just(UTC)
)


@given(days, zones)
def test_a_command_line_day_is_that_day_in_the_watchlist_zone(day: date, zone: str) -> None:
    start = parse_when(day.isoformat(), zone)
    end = parse_when(day.isoformat(), zone, end_of_day=True)
    local = start.astimezone(ZoneInfo(zone))
    assert (local.date(), local.hour, local.minute) == (day, 0, 0)
    assert start.tzinfo is not None and start < end
    assert (end - start) in {timedelta(hours=h) for h in (23, 24, 25)}  # DST days included


@given(st.text(max_size=40), zones)
def test_command_line_dates_either_parse_or_are_usage_errors(text: str, zone: str) -> None:
    with contextlib.suppress(UsageError):
        assert parse_when(text, zone).tzinfo is not None


@given(instants)
def test_rfc822_dates_round_trip_through_a_feed(instant: datetime) -> None:
    instant = instant.replace(microsecond=0)
    stamp = email.utils.format_datetime(instant)
    body = (
        '<rss version="2.0"><channel><item><title>t</title><link>http://x.example/1</link>'
        f"<pubDate>{stamp}</pubDate></item></channel></rss>"
    ).encode()
    [item] = parse_feed(body, "http://x.example/feed", now=NOW).items
    assert item.published == instant


@given(
    st.one_of(
        st.datetimes(max_value=datetime(1989, 12, 31), timezones=st.just(UTC)),
        st.datetimes(min_value=datetime(2026, 11, 27), timezones=st.just(UTC)),
    )
)
def test_absurd_dates_are_not_believed(instant: datetime) -> None:
    assert read_date(instant, NOW) is None
    assert not plausible(instant, NOW)
    assert read_date(instant.isoformat(), NOW) is None


@given(st.datetimes(timezones=st.just(UTC)))
def test_plausible_is_exactly_the_spec_window(instant: datetime) -> None:
    assert plausible(instant, NOW) == (EARLIEST <= instant <= NOW + timedelta(days=1))


@settings(max_examples=40)
@given(st.text(max_size=80))
def test_date_readers_never_raise_and_never_leave_the_window(text: str) -> None:
    for got in (
        read_date(text, NOW),
        localized_rfc822(text, NOW),
        parse_date_text(text, now=NOW),
    ):
        assert got is None or (got.tzinfo is not None and plausible(got, NOW)), (text, got)


# --- identifiers ---------------------------------------------------------------------------------

local_parts = st.text(
    alphabet=string.ascii_letters + string.digits + "._+-", min_size=1, max_size=12
)


@given(local_parts, hosts)
def test_email_identifiers_ignore_case_spaces_and_mailto(user: str, host: str) -> None:
    address = f"{user}@{host}"
    ident = email_identifier(address)
    assume(ident is not None)
    assert ident == email_identifier(f"  MAILTO:{address.upper()}?subject=hi ")
    # Only a hash is kept, never the address.
    assert ident is not None
    assert ident.value == hashlib.sha256(address.lower().encode()).hexdigest()


@given(st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=10), hosts)
def test_fediverse_accounts_have_one_spelling(user: str, host: str) -> None:
    a = acct_identifier(f"@{user}@{host}")
    assert a is not None
    assert acct_identifier(f"{user}@{host.upper()}") == a
    assert acct_identifier(f" acct:{user.upper()}@{host} ") == a
    assert handle_identifier(f"@{user}", host) == handle_identifier(user.lower(), host.upper())


@given(web_urls())
def test_url_identifiers_are_idempotent_and_ignore_a_trailing_slash(url: str) -> None:
    ident = url_identifier(url)
    assert ident is not None
    assert url_identifier(ident.value) == ident
    if "?" not in url:
        assert url_identifier(url + "/") == ident


@given(st.text(max_size=MAX_NAME * 3))
def test_names_are_cleaned_once_and_for_all(name: str) -> None:
    cleaned = clean_name(name)
    assert "\x00" not in cleaned and len(cleaned) <= MAX_NAME
    assert clean_name(cleaned) == cleaned
    assert cleaned == cleaned.strip()


@given(st.text(max_size=200))
def test_identifier_readers_never_raise(text: str) -> None:
    for ident in (
        url_identifier(text),
        email_identifier(text),
        acct_identifier(text),
        handle_identifier(text, text),
    ):
        assert ident is None or (ident.kind and ident.value)
