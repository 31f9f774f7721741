from __future__ import annotations

import hashlib

import pytest

from ereput.identifiers import (
    MAX_NAME,
    acct_identifier,
    avatar_identifier,
    email_identifier,
    handle_identifier,
    is_placeholder_name,
    make_account,
    profile_handle,
    uid_identifier,
    url_identifier,
)
from ereput.models import Identifier

MD5 = "a2bdca7870e859658cece96c044b3be5"
SHA = "b" * 64


@pytest.mark.parametrize(
    ("url", "value"),
    [
        ("https://Forum.Acme.io/u/jmarchand/", "https://forum.acme.io/u/jmarchand"),
        ("https://medium.com/@pippinlee", "https://medium.com/@pippinlee"),
        ("http://TouchNokia.ru", "http://touchnokia.ru/"),
        ("https://x.org/", "https://x.org/"),
        ("https://x.org/me/?utm_source=x#comment-1", "https://x.org/me"),
        ("https://x.org/p?id=3", "https://x.org/p?id=3"),
    ],
)
def test_url_identifier(url, value):
    assert url_identifier(url) == Identifier("url", value)


def test_url_identifier_refuses_non_web_and_resolves_relative():
    assert url_identifier("javascript:alert(1)") is None
    assert url_identifier("") is None
    assert url_identifier(None) is None
    assert url_identifier("/blog/", "http://intertwingly.net/x.atom") == Identifier(
        "url", "http://intertwingly.net/blog"
    )


def test_email_identifier_keeps_only_the_hash():
    expected = hashlib.sha256(b"julie@acme.io").hexdigest()
    for spelling in ("julie@acme.io", "  Julie@ACME.io ", "mailto:julie@acme.io?subject=x"):
        identifier = email_identifier(spelling)
        assert identifier == Identifier("email", expected)
        assert "julie" not in str(identifier)


@pytest.mark.parametrize(
    "bad", ["", None, "julie", "julie@", "@acme.io", "a b@c.d", "a@b", "x@y@z.org"]
)
def test_email_identifier_refuses_invalid_addresses(bad):
    assert email_identifier(bad) is None


@pytest.mark.parametrize(
    ("url", "value"),
    [
        (f"https://secure.gravatar.com/avatar/{MD5}?s=120&#038;d=mm&#038;r=g", MD5),
        (f"http://0.gravatar.com/avatar/{MD5.upper()}.jpg?s=48", MD5),
        (f"https://gravatar.com/avatar/{SHA}", SHA),
        (
            f"https://web.archive.org/web/20150301000000im_/http://1.gravatar.com/avatar/{MD5}?s=40",
            MD5,
        ),
    ],
)
def test_avatar_identifier_reads_gravatar_hashes(url, value):
    assert avatar_identifier(url) == Identifier("avatar", value)


@pytest.mark.parametrize(
    "url",
    [
        "https://secure.gravatar.com/avatar/d41d8cd98f00b204e9800998ecf8427e?s=48&d=mm",
        "https://gravatar.com/avatar/"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "https://enterprise.lemmy.ml/pictrs/image/ed9ej7.jpg",
        "http://ranchero.com/downloads/brent_avatar.png",
        "https://gravatar.com/avatar/nothex",
        "https://evil.example/gravatar.com/avatar/" + MD5,
        "",
        None,
    ],
)
def test_avatar_identifier_refuses_empty_email_hash_and_other_images(url):
    assert avatar_identifier(url) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("@julie@mastodon.social", "julie@mastodon.social"),
        ("Julie@Mastodon.Social", "julie@mastodon.social"),
        ("acct:federationbot@mastodon.host", "federationbot@mastodon.host"),
    ],
)
def test_acct_identifier(text, value):
    assert acct_identifier(text) == Identifier("acct", value)


@pytest.mark.parametrize(
    "bad", ["", None, "julie", "@julie", "julie@localhost", "a b@x.org", "a@b/c.org"]
)
def test_acct_identifier_refuses(bad):
    assert acct_identifier(bad) is None


def test_uid_and_handle_identifiers():
    assert uid_identifier(2148159, "Pikabu.ru") == Identifier("uid", "2148159@pikabu.ru")
    assert uid_identifier("8", "https://villagersandheroes.com/forums/") == Identifier(
        "uid", "8@villagersandheroes.com"
    )
    assert uid_identifier("", "x.org") is None
    assert uid_identifier("1 2", "x.org") is None
    assert uid_identifier(3, "") is None
    assert handle_identifier("@UaSmart", "twitter.com") == Identifier(
        "handle", "uasmart@twitter.com"
    )
    assert handle_identifier("v_95", "www.reddit.com") == Identifier("handle", "v_95@reddit.com")
    assert handle_identifier("", "reddit.com") is None


def test_profile_handle_ties_reddit_hosts_together():
    www = profile_handle("https://www.reddit.com/user/benjaab123")
    assert www == Identifier("handle", "benjaab123@reddit.com")
    assert profile_handle("https://ud.reddit.com/user/BenjaAB123/") == www
    assert profile_handle("https://old.reddit.com/u/benjaab123") == www
    assert profile_handle("https://www.reddit.com/r/space/") is None
    assert profile_handle("https://example.org/user/x") is None


@pytest.mark.parametrize(
    "name",
    ["Anonymous", "anonymous", " ANONYME ", "Invité", "INVITE", "invite", "Guest", "[deleted]",
     "Unknown", "", "   ", None, "Gast"],
)  # fmt: skip
def test_placeholder_names(name):
    assert is_placeholder_name(name)


@pytest.mark.parametrize("name", ["Ruby", "Julie Marchand", "Anonymous Coward Fan Club", "Guesty"])
def test_real_names_are_not_placeholders(name):
    assert not is_placeholder_name(name)


def test_make_account_builds_identifiers_and_cleans_the_name():
    account = make_account(
        "https://WWW.Reddit.com/r/x",
        "  bob\x00by \n\t tables ",
        url="https://www.reddit.com/user/bobby/",
        email="Secret.Person@Mail.Example.org",
        avatar=f"https://secure.gravatar.com/avatar/{MD5}",
        platform="feed",
    )
    assert account is not None
    assert account.site == "www.reddit.com"
    assert account.name == "bobby tables"
    assert account.platform == "feed"
    assert account.profile_url == "https://www.reddit.com/user/bobby/"
    assert [i.kind for i in account.identifiers] == ["url", "handle", "email", "avatar"]
    assert Identifier("email", hashlib.sha256(b"secret.person@mail.example.org").hexdigest()) in (
        account.identifiers
    )
    assert "secret" not in repr(account).lower() and "mail.example" not in repr(account).lower()


def test_make_account_bounds_the_name_and_needs_a_name_or_an_identifier():
    long = make_account("x.org", "a" * 1_000_000)
    assert long is not None and long.name == "a" * MAX_NAME
    assert make_account("x.org", "") is None
    assert make_account("x.org", None) is None
    assert make_account("x.org", "  \x00 ", url="javascript:x", email="nope") is None
    nameless = make_account("x.org", "", url="https://x.org/u/1")
    assert nameless is not None and nameless.name == ""
    placeholder = make_account("x.org", "Anonymous")
    assert placeholder is not None and placeholder.identifiers == ()
