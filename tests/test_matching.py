"""The query language of SPEC §3: folding, word boundaries, phrases, AND/OR/groups,
exclusions, punctuated tokens, syntax errors with their columns."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ereput.errors import QuerySyntaxError
from ereput.matching import compile_query, parse_entry
from ereput.models import Query
from ereput.text import _PLAIN, fold, words


def matches(entry: str, text: str, title: str = "") -> bool:
    return compile_query(Query(terms=(entry,))).match(title, text) == [entry]


# --- folding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ACME", "acme"),
        ("Acmé", "acme"),
        ("ÀÉÎÕÜ ç", "aeiou c"),
        ("Straße", "strasse"),
        ("cœur Œuvre", "coeur oeuvre"),
        ("l’Acme", "l'acme"),
        ("« Acme »", '" acme "'),
        ("ﬁbre", "fibre"),
        ("Привет", "привет"),
        ("Acme 😀 é", "acme 😀 e"),
        ("クラウドが", "クラウトか"),  # kana voicing marks, past the list
        ("Ørjan 𝅘𝅥𝅮 Acmé", "ørjan 𝅘 acme"),  # plane 1 marks
        ("Ac\u00adme\u200b Cl\u200cou\u200dd\u2060\ufeff", "acme cloud"),  # invisible
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_words_split_on_punctuation() -> None:
    assert words("L'Acmé, c'est acme.io/pricing #AcmeCloud acme_corp") == [
        "l",
        "acme",
        "c",
        "est",
        "acme",
        "io",
        "pricing",
        "acmecloud",
        "acme_corp",
    ]


@given(st.text())
def test_fold_is_idempotent(s: str) -> None:
    assert fold(fold(s)) == fold(s)


@given(st.text())
def test_fold_drops_every_combining_mark_and_nothing_else(s: str) -> None:
    # Its fast paths and its two tables (a list for the common scripts, a regex past it)
    # against the plain definition.
    d = unicodedata.normalize("NFKD", s)
    for typo, plain in _PLAIN:
        d = d.replace(typo, plain)
    expected = "".join(c for c in d if not unicodedata.combining(c)).casefold()
    assert fold(s) == (expected if not s.isascii() else s.lower())


@given(st.text())
def test_words_ascii_fast_path_agrees_with_regex(s: str) -> None:
    from ereput.text import WORD

    assert words(s) == WORD.findall(fold(s))


# --- words, case, accents, boundaries --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "acme",
        "ACME is great",
        "J'adore Acmé.",
        "l'Acme est en panne",
        "l’ACMÉ est en panne",
        "(acme)",
        "#acme",
        "@acme",
        "visit acme.io",
        "acme-cloud",
        "«Acme»",
        "Ac\u00adme est en panne",  # a soft hyphen, where the word may break
        "AC\u200bMÉ est en panne",  # a zero-width space, to slip past a watch
        "l'Ac\u2060me",
    ],
)
def test_word_matches(text: str) -> None:
    assert matches("acme", text)


@pytest.mark.parametrize("text", ["acmecorp", "Acmeville", "myacme", "acme_corp", "acmé2", ""])
def test_word_boundaries(text: str) -> None:
    assert not matches("acme", text)


def test_accented_query_matches_plain_text() -> None:
    assert matches("Acmé", "the acme team")
    assert matches("hébergement", "Hebergement en panne")


def test_and_needs_every_word_anywhere() -> None:
    assert matches("acme panne", "Panne chez ACME ce matin")
    assert not matches("acme panne", "acme fonctionne")
    assert matches("acme panne", "panne", title="Acme")  # title and text together


def test_french_text() -> None:
    text = "Déçu par l’hébergement d’Acmé : le serveur est tombé deux fois cette semaine !"
    assert matches("acme (serveur OR hebergement)", text)
    assert matches('"serveur est tombe"', text)
    assert matches("deçu", text)
    assert not matches("acme -serveur", text)


# --- phrases -------------------------------------------------------------------------------


def test_phrase_adjacent_in_order() -> None:
    assert matches('"Acme Cloud"', "I use acme cloud daily")
    assert matches('"Acme Cloud"', "Acmé. Cloud — as they say")  # punctuation between: ignored
    assert matches('"Acme Cloud"', "ACME\n\tcloud")
    assert not matches('"Acme Cloud"', "cloud acme")
    assert not matches('"Acme Cloud"', "acme big cloud")
    assert not matches('"Acme Cloud"', "acme cloudy")
    assert not matches('"Acme Cloud"', "myacme cloud")


def test_phrase_does_not_span_title_and_text() -> None:
    assert not matches('"acme cloud"', "cloud is nice", title="About acme")
    assert matches('"acme cloud"', "nice", title="About acme cloud")


def test_single_word_phrase_is_a_word() -> None:
    assert matches('"acme"', "l'acme")
    assert not matches('"acme"', "acmecorp")


# --- OR and groups -------------------------------------------------------------------------


def test_or() -> None:
    assert matches("cloud OR hosting", "good hosting")
    assert matches("cloud OR hosting", "cloud")
    assert not matches("cloud OR hosting", "nothing")


def test_lowercase_or_is_a_word() -> None:
    assert not matches("cloud or hosting", "good hosting")
    assert matches("cloud or hosting", "cloud or hosting")


def test_or_binds_tighter_than_and() -> None:
    assert matches("acme cloud OR hosting", "acme hosting")
    assert not matches("acme cloud OR hosting", "hosting")


def test_groups() -> None:
    entry = "Acme (cloud OR hosting)"
    assert matches(entry, "acme hosting is down")
    assert not matches(entry, "acme is down")
    assert not matches(entry, "cloud hosting")


def test_nested_groups() -> None:
    entry = 'acme ((cloud "status page") OR (hosting -cheap))'
    assert matches(entry, "acme cloud status page")
    assert not matches(entry, "acme cloud status")
    assert matches(entry, "acme hosting")
    assert not matches(entry, "acme cheap hosting")
    assert matches(entry, "acme cheap hosting, cloud status page")


# --- exclusions ----------------------------------------------------------------------------


def test_exclusions_inside_an_entry() -> None:
    assert matches("acme -coyote", "acme rocks")
    assert not matches("acme -coyote", "acme and the Coyote")
    entry = 'acme -"acme corporation"'
    assert matches(entry, "acme corp")
    assert not matches(entry, "the Acme Corporation anvil")


def test_global_exclude_vetoes_every_term() -> None:
    m = compile_query(
        Query(terms=("acme", '"acme cloud"'), exclude=('"Acme Corporation" coyote', "anvil"))
    )
    assert m.match("", "acme cloud") == ["acme", '"acme cloud"']
    assert m.match("", "Acme Corporation sells to the coyote") == []
    assert m.match("", "Acme Corporation sells") == ["acme"]
    assert m.match("An anvil", "acme cloud") == []


def test_match_returns_entries_in_order() -> None:
    terms = ("#acmecloud", "acme.io", "acme", '"acme cloud"', "nothing")
    m = compile_query(Query(terms=terms, languages=("fr",)))
    assert m.match("Acme Cloud", "see acme.io #AcmeCloud") == list(terms[:4])
    assert m.languages == ("fr",)
    assert m.match("", "") == []


# --- punctuated tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visit acme.io.", True),
        ("ACME.IO/pricing", True),
        ("https://www.acme.io/", True),
        ("myacme.io", False),
        ("acme.iox", False),
        ("acme io", False),
        ("acme-io", False),
    ],
)
def test_domain_token(text: str, expected: bool) -> None:
    assert matches("acme.io", text) is expected


def test_handle_and_hashtag_tokens() -> None:
    assert matches("@acme", "thanks @ACME!")
    assert not matches("@acme", "thanks acme")
    assert not matches("@acme", "mail bob@acme please")
    assert not matches("@acme", "@acmecloud")
    assert matches("#acme", "love it #Acmé")
    assert not matches("#acme", "acme")
    assert not matches("#acme", "#acmecloud")


def test_hyphen_and_apostrophe_tokens() -> None:
    assert matches("acme-cloud", "the ACME-Cloud offer")
    assert not matches("acme-cloud", "acme cloud")
    assert matches("l'acme", "chez l’Acmé")


# --- syntax errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "column", "reason"),
    [
        ("", 1, "empty entry"),
        ("   ", 1, "empty entry"),
        ("acme (cloud", 6, "unbalanced parenthesis: '(' is never closed"),
        ("acme cloud)", 11, "unbalanced parenthesis: ')' without '('"),
        (")acme", 1, "unbalanced parenthesis: ')' without '('"),
        ('acme "cloud', 6, "unclosed quote"),
        ("OR acme", 1, "'OR' needs a term on each side"),
        ("acme OR", 6, "'OR' needs a term on each side"),
        ("acme OR OR cloud", 6, "'OR' needs a term on each side"),
        ("(acme OR) cloud", 7, "'OR' needs a term on each side"),
        ("acme ()", 6, "empty group '()'"),
        ("acme (())", 7, "empty group '()'"),
        ("acme -", 6, "'-' must be followed by a word or a phrase"),
        ("acme - cloud", 6, "'-' must be followed by a word or a phrase"),
        ("acme --cloud", 6, "'-' must be followed by a word or a phrase"),
        ("(acme -)", 7, "'-' must be followed by a word or a phrase"),
        ('acme ""', 6, "empty phrase"),
        ('acme "!!"', 6, "no word in this phrase"),
        ("-acme", 1, "nothing to look for: this entry only excludes"),
        ("  -acme -cloud", 3, "nothing to look for: this entry only excludes"),
        ("(cloud OR -hosting)", 1, "nothing to look for: this entry only excludes"),
    ],
)
def test_syntax_errors(entry: str, column: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_entry(entry)
    assert (info.value.entry, info.value.column, info.value.reason) == (entry, column, reason)
    assert f"at column {column}" in str(info.value)


def test_compile_query_reports_the_bad_entry() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(Query(terms=("acme",), exclude=("coyote (",)))
    assert info.value.entry == "coyote ("


def test_valid_entries_parse() -> None:
    for entry in ['"Acme Cloud"', "acme.io", "Acme (cloud OR hosting)", "#acmecloud", "a -b"]:
        parse_entry(entry)


# --- properties ----------------------------------------------------------------------------

alnum_word = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=12
).filter(lambda w: len(words(w)) == 1 and words(w)[0] == fold(w) and w != "OR")


@given(alnum_word, st.text(alphabet=" .,;!?()'\"\n", max_size=3))
def test_single_word_matches_itself_surrounded_by_spaces(word: str, punct: str) -> None:
    assert matches(word, f"before {punct} {word} {punct} after")
    if word.isascii():  # Turkish ı upper-cases to I, which is i: no round trip in Unicode
        assert matches(word, word.upper())
        assert matches(word.upper(), word)


sample_texts = st.lists(
    st.sampled_from(["acme", "Acmé", "cloud", "hosting", "coyote", "l'acme", "acme.io", "x"]),
    max_size=8,
).map(" ".join)
sample_entries = st.sampled_from(
    ["acme", "cloud OR hosting", '"acme cloud"', "acme -coyote", "acme.io", "(x OR acme) cloud"]
)


@given(sample_texts, st.lists(sample_entries, min_size=1, max_size=4), st.lists(sample_entries))
def test_adding_an_exclude_never_adds_matches(
    text: str, terms: list[str], exclude: list[str]
) -> None:
    base = compile_query(Query(terms=tuple(terms))).match("", text)
    with_exclude = compile_query(Query(terms=tuple(terms), exclude=tuple(exclude))).match("", text)
    assert with_exclude in ([], base)


@given(sample_texts, st.lists(sample_entries, min_size=2, max_size=6))
def test_the_index_gives_the_same_answer_as_evaluating_every_entry(
    text: str, terms: list[str]
) -> None:
    together = compile_query(Query(terms=tuple(terms))).match("", text)
    alone = [t for t in terms if compile_query(Query(terms=(t,))).match("", text)]
    assert together == alone


def test_a_thousand_terms_stay_fast() -> None:
    """A coarse guard on the trigger index: 1,000 entries over 2,000 items well under a
    second (the index makes the cost nearly independent of the number of entries)."""
    import time

    terms = tuple(f"brand{i} (cloud OR hosting{i})" for i in range(500)) + tuple(
        f'"brand{i} status" -outage' for i in range(500)
    )
    m = compile_query(Query(terms=terms))
    texts = [
        f"Le service cloud de brand{i % 3000} est en panne, l’équipe répond." for i in range(2000)
    ]
    start = time.perf_counter()
    hits = sum(bool(m.match("Acme", t)) for t in texts)
    assert time.perf_counter() - start < 1.0
    assert hits == 500


def test_entries_are_triggered_by_their_rarest_word():
    """Words shared by many entries are likely common in texts: an entry waits on the word
    found in the fewest entries, so 1,000 terms cost about what 2 do (benchmarks)."""
    from ereput.matching import _Index

    entries = ['"performance zq1x"', "performance support zq2x", "(performance OR support) zq3x"]
    index = _Index([parse_entry(e) for e in entries])
    assert set(index.by_word) == {"zq1x", "zq2x", "zq3x"}
