"""Text normalisation shared by query matching and look-ups.

`fold` runs on the title and text of every item of every scan, so it stays in C-level
string operations: plain ASCII is only lower-cased, and Latin text whose only non-ASCII
characters are accents (most French, Spanish, German…) is decomposed and re-encoded as
ASCII, which drops the accents an order of magnitude faster than a per-character filter.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Invisible characters, which split no word for a reader: a soft hyphen (where a long word
#: may break), zero-width space, non-joiner and joiner, word joiner, and U+FEFF. `fold`
#: drops them: `Ac\u00adme` is `acme`, as `Ac\u200bme` written to slip past a watch is.
INVISIBLE = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")

# Typographic punctuation as its ASCII form, so that `l’Acme` reads as `l'Acme` and a
# query typed on a plain keyboard finds text typed on a phone; ligatures as their letters
# (`œuvre` = `oeuvre`, `Straße` = `strasse`). Besides matching better, this keeps French and
# German text on the fast path. Query and text are folded alike.
_PLAIN = (
    ("\u00df", "ss"),
    ("\u1e9e", "ss"),
    ("\u0153", "oe"),
    ("\u0152", "oe"),
    ("\u00e6", "ae"),
    ("\u00c6", "ae"),
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u02bc", "'"),
    ("\u00ab", '"'),
    ("\u00bb", '"'),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2010", "-"),
    ("\u2011", "-"),
    ("\u2013", "-"),
    ("\u2014", "-"),
    *((invisible, "") for invisible in INVISIBLE),
)
# The accents Latin scripts use, as NFKD leaves them after their letters, most frequent
# first (acute, grave, circumflex, cedilla, diaeresis, tilde…).
_LATIN_MARKS = tuple(
    chr(c)
    for c in (
        *(0x301, 0x300, 0x302, 0x327, 0x308, 0x303, 0x30A, 0x30C, 0x304, 0x306, 0x328),
        *(0x307, 0x30B, 0x326, 0x323, 0x309, 0x31B, 0x331),
    )
)

#: Code points below this are dropped or kept through a list (str.translate's fastest
#: table): Latin, Greek, Cyrillic, Arabic, Indic scripts and kana marks. A list up to
#: 0x20000 (every combining mark) weighed 5 MB in each scan process.
_TABLE_END = 0x3100


@functools.cache
def _strip_table() -> list[int | None]:
    """Every code point below `_TABLE_END` with a combining class is dropped (None); built
    when first needed (a few ms, which every command would pay at start-up)."""
    return [None if unicodedata.combining(chr(c)) else c for c in range(_TABLE_END)]


_BEYOND_TABLE = re.compile(f"[{chr(_TABLE_END)}-{chr(0x10FFFF)}]")


@functools.cache
def _marks_pattern() -> re.Pattern[str]:
    """Every combining mark (Unicode has none above plane 1), for the rare text that has
    characters past the list (CJK, historic scripts): 3-4× slower than the list, 40 KB."""
    marks = [c for c in range(0x20000) if unicodedata.combining(chr(c))]
    ranges: list[str] = []
    start = prev = marks[0]
    for c in [*marks[1:], -1]:
        if c == prev + 1:
            prev = c
            continue
        ranges.append(chr(start) if start == prev else f"{chr(start)}-{chr(prev)}")
        start = prev = c
    return re.compile("[" + "".join(ranges) + "]+")


def _strip_marks(d: str) -> str:
    if _BEYOND_TABLE.search(d) is None:
        return d.translate(_strip_table())
    return _marks_pattern().sub("", d)


def fold(s: str) -> str:
    """Case- and accent-insensitive form of `s`: `Acmé`, `ACME` and `acme` all give `acme`.

    NFKD splits accents off their letters (and compatibility forms such as `ﬁ` into `fi`),
    the marks are dropped, then `casefold` handles `ß` and friends; invisible characters
    (a soft hyphen, zero-width ones) are dropped. Idempotent.
    """
    if s.isascii():
        return s.lower()
    d = unicodedata.normalize("NFKD", s)
    for typo, plain in _PLAIN:
        if typo in d:
            d = d.replace(typo, plain)
    ascii_ = d.encode("ascii", "ignore")
    dropped = len(d) - len(ascii_)
    for mark in _LATIN_MARKS:
        if dropped <= 0:
            break
        dropped -= d.count(mark)
    if dropped == 0:  # everything the ASCII encoding dropped was an accent
        return ascii_.decode("ascii").lower()
    return _strip_marks(d).casefold()


WORD = re.compile(r"\w+")
"""A word of folded text, what a query word must equal: `l'acme` holds `l` and `acme`,
`acme.io` holds `acme` and `io`, `acme_corp` is one word."""

# ASCII non-word characters as spaces: translate + split is three times faster than
# `WORD.findall` and gives the same words on ASCII text (what `fold` mostly returns).
_SPACES: list[str] = [chr(c) if chr(c).isalnum() or chr(c) == "_" else " " for c in range(128)]


def split_words(folded: str) -> list[str]:
    """The words (`WORD`) of an already folded text, in order."""
    if folded.isascii():
        return folded.translate(_SPACES).split()
    return WORD.findall(folded)


def words(s: str) -> list[str]:
    """The words of `s` once folded, in order."""
    return split_words(fold(s))
