from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ereput.urls import canonical_url, host_of, unwrap_redirect


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://Exämple.de/", "https://xn--exmple-cua.de/"),
        ("https://example.com/a b/é", "https://example.com/a%20b/%C3%A9"),
        ("https://example.com/%c3%a9", "https://example.com/%C3%A9"),
        (
            "https://x.org/p?utm_source=tw&a=1&UTM_Medium=x&fbclid=f&b=&gclid=g&c=3",
            "https://x.org/p?a=1&b=&c=3",
        ),
        ("https://x.org/p?mc_cid=1&mc_eid=2&ref_src=twsrc", "https://x.org/p"),
        ("https://x.org/p?b=2&a=1", "https://x.org/p?b=2&a=1"),  # order kept
        ("https://x.org/p#top", "https://x.org/p"),
        ("https://x.org/p#respond", "https://x.org/p"),
        ("https://x.org/p#comment-123", "https://x.org/p#comment-123"),
        ("https://x.org/t?t=1#p42", "https://x.org/t?t=1#p42"),
        ("https://x.org/t#post-7", "https://x.org/t#post-7"),
        ("https://x.org/t#post_7", "https://x.org/t#post_7"),
        ("https://x.org/t#c9", "https://x.org/t#c9"),
        ("https://x.org/t#li-comment-9", "https://x.org/t#li-comment-9"),
        ("https://x.org/t#comment-x", "https://x.org/t"),
        ("http://user:secret@x.org/", "http://x.org/"),
        ("  https://x.org/\n", "https://x.org/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("javascript:alert(1)", None),
        ("mailto:someone@example.org", None),
        ("ftp://x.org/file", None),
        ("file:///etc/passwd", None),
        ("data:text/html,hi", None),
        ("", None),
        ("not a url", None),
        ("http://", None),
        ("http://[::1", None),
        ("http://x.org:99999/", None),
        ("http://a..b/", None),
        ("http://exa mple.com/", None),
        ("https://x.org/" + "a" * 10_000, None),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/blog/", "http://intertwingly.net/blog/index.atom", "http://intertwingly.net/blog/"),
        ("../b?x=1", "https://x.org/a/c/d", "https://x.org/a/b?x=1"),
        ("//cdn.x.org/i", "https://x.org/", "https://cdn.x.org/i"),
        ("https://other.org/", "https://x.org/", "https://other.org/"),
        ("javascript:void(0)", "https://x.org/", None),
    ],
)
def test_canonical_url_resolves_against_base(url, base, expected):
    assert canonical_url(url, base) == expected


GOOGLE = (
    "https://www.google.com/url?rct=j&sa=t&url=https://www.aglobalmarketresearch.com/report/"
    "&ct=ga&cd=CAIyHGU4ZTJk&usg=AFQjCNHUcRGt"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (GOOGLE, "https://www.aglobalmarketresearch.com/report/"),
        (
            "https://www.google.fr/url?rct=j&sa=t&url=https%3A%2F%2Fex.org%2Fa%3Fb%3D1&ct=ga",
            "https://ex.org/a?b=1",
        ),
        (
            "https://alerts.talkwalker.com/alerts/c/ABC?url=https%3A%2F%2Fex.org%2Fp&id=3",
            "https://ex.org/p",
        ),
        ("https://talkwalker.com/r?url=https://ex.org/q", "https://ex.org/q"),
        # not redirectors, or no web target: unchanged
        ("https://google.evil.com/url?url=https://ex.org/", "https://google.evil.com/url?url=https://ex.org/"),
        ("https://www.google.com/search?q=acme", "https://www.google.com/search?q=acme"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://ex.org/?url=https://other.org/", "https://ex.org/?url=https://other.org/"),
        ("garbage", "garbage"),
    ],
)  # fmt: skip
def test_unwrap_redirect(url, expected):
    assert unwrap_redirect(url) == expected


def test_host_of():
    assert host_of("https://WWW.Example.ORG:8080/x") == "www.example.org"
    assert host_of("https://bücher.de/") == "xn--bcher-kva.de"
    assert host_of("garbage") == ""
    assert host_of("http://[::1") == ""


@settings(database=None, max_examples=300)
@given(st.text())
def test_canonical_url_never_raises_and_is_idempotent_on_any_text(text):
    for url in (text, "http://" + text, "https://x.org/" + text):
        canonical = canonical_url(url)
        assert canonical is None or canonical_url(canonical) == canonical
        assert isinstance(unwrap_redirect(url), str)
        assert isinstance(host_of(url), str)
    resolved = canonical_url(text, "https://x.org/a/")
    assert resolved is None or canonical_url(resolved) == resolved
    canonical_url("https://x.org/", base=text)  # a garbage base never raises


_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüß0123456789-", min_size=1, max_size=12)
# Path and query parts: any character but the delimiters that would end them.
_part = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="?#&"), max_size=15
)
_urls = st.builds(
    lambda scheme, labels, port, path, pairs, fragment: (
        f"{scheme}://{'.'.join(labels)}{port}/{path}"
        + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
        + fragment
    ),
    st.sampled_from(["http", "https", "HTTP", "HtTpS"]),
    st.lists(_label, min_size=1, max_size=4),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    _part,
    st.lists(st.tuples(st.sampled_from(["a", "utm_x", "fbclid", "q", "%41"]), _part), max_size=4),
    st.sampled_from(["", "#top", "#comment-3", "#p12", "#" + "x" * 3]),
)


@settings(database=None, max_examples=300)
@given(_urls)
def test_canonical_url_is_idempotent_on_urls(url):
    canonical = canonical_url(url)
    assert canonical is None or canonical_url(canonical) == canonical
    if canonical is not None:
        assert canonical.startswith(("http://", "https://"))
        assert "utm_x=" not in canonical and "fbclid=" not in canonical
