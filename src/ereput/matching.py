"""The query language of SPEC §3, compiled once per watchlist and run on every item.

One entry of `query.terms` or `query.exclude`:

- `acme cloud` — every word must appear (AND), on word boundaries, ignoring case and
  accents: `acme` matches `Acmé`, `l'ACME`, `#acme`, `acme.io`, not `acmecorp`;
- `"acme cloud"` — an exact phrase: the words adjacent and in order, whatever punctuation
  or spaces lie between them;
- `cloud OR hosting`, `acme (cloud OR hosting)` — alternatives; as in Google's search,
  `OR` binds tighter than the implicit AND (`acme cloud OR hosting` is
  `acme (cloud OR hosting)`), and parentheses group;
- `-coyote`, `-"acme corporation"` — the entry does not match when that is present;
- `acme.io`, `@acme`, `#acme`, `acme-cloud` — a token holding punctuation matches
  literally (still ignoring case and accents, still bounded: `acme.io` is not in
  `myacme.io` nor `acme.iox`).

Speed: an item is folded and split into words once (`Doc`); a plain word is a set look-up;
phrases and punctuated tokens are regular expressions run only when their words are all
present. Each entry is indexed under a few "trigger" words, one of which any matching
text must contain, so that with a thousand entries an item only evaluates the handful that
could match.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import ahocorasick

from ereput.errors import QuerySyntaxError
from ereput.models import Query
from ereput.text import WORD, fold, split_words

# --- the parsed form ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """One folded word: a set look-up."""

    word: str
    col: int

    def eval(self, doc: Doc) -> bool:
        return self.word in doc.tokens


@dataclass(frozen=True, slots=True)
class Pattern:
    """A phrase or a punctuated token: a bounded regular expression on the folded text,
    tried only when all of its words are in the item (most items fail that set test)."""

    words: frozenset[str]
    regex: re.Pattern[str]
    col: int

    def eval(self, doc: Doc) -> bool:
        return self.words <= doc.tokens and any(self.regex.search(f) for f in doc.fields)


@dataclass(frozen=True, slots=True)
class Not:
    node: Node
    col: int

    def eval(self, doc: Doc) -> bool:
        return not self.node.eval(doc)


@dataclass(frozen=True, slots=True)
class And:
    nodes: tuple[Node, ...]
    col: int

    def eval(self, doc: Doc) -> bool:
        return all(n.eval(doc) for n in self.nodes)


@dataclass(frozen=True, slots=True)
class Or:
    nodes: tuple[Node, ...]
    col: int

    def eval(self, doc: Doc) -> bool:
        return any(n.eval(doc) for n in self.nodes)


Node = Word | Pattern | Not | And | Or


# --- parsing --------------------------------------------------------------------------------

_SPECIAL = '()"'


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "word", "phrase", "(", ")", "OR", "-"
    text: str
    col: int  # 1-based


def _lex(entry: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(entry)
    while i < n:
        c = entry[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i + 1))
            i += 1
        elif c == '"':
            end = entry.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(entry, i + 1, "unclosed quote")
            toks.append(_Tok("phrase", entry[i + 1 : end], i + 1))
            i = end + 1
        elif c == "-" and (i + 1 == n or entry[i + 1].isspace() or entry[i + 1] == ")"):
            raise QuerySyntaxError(entry, i + 1, "'-' must be followed by a word or a phrase")
        elif c == "-":
            toks.append(_Tok("-", c, i + 1))
            i += 1
        else:
            j = i
            while j < n and not entry[j].isspace() and entry[j] not in _SPECIAL:
                j += 1
            text = entry[i:j]
            toks.append(_Tok("OR" if text == "OR" else "word", text, i + 1))
            i = j
    return toks


def _bounded(body: str) -> re.Pattern[str]:
    """`body` with no word character glued on either side: `acme.io` not in `myacme.io`."""
    return re.compile(rf"(?<!\w){body}(?!\w)")


class _Parser:
    """Recursive descent over: seq := or+ ; or := unary ('OR' unary)* ;
    unary := '-' atom | atom ; atom := word | phrase | '(' seq ')'."""

    def __init__(self, entry: str) -> None:
        self.entry = entry
        self.toks = _lex(entry)
        self.pos = 0

    def error(self, col: int, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.entry, col, reason)

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def parse(self) -> Node:
        if not self.toks:
            raise self.error(1, "empty entry")
        node = self.seq()
        tok = self.peek()
        if tok is not None:  # only a stray ")" stops a top-level sequence
            raise self.error(tok.col, "unbalanced parenthesis: ')' without '('")
        return node

    def seq(self) -> Node:
        nodes: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != ")":
            nodes.append(self.or_())
        if not nodes:  # a ")" first: atom() catches "()" before calling seq()
            raise self.error(self.toks[self.pos].col, "unbalanced parenthesis: ')' without '('")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes), nodes[0].col)

    def or_(self) -> Node:
        nodes = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "OR"):
                raise self.error(tok.col, "'OR' needs a term on each side")
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes), nodes[0].col)

    def unary(self) -> Node:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "-":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("word", "phrase", "("):
                raise self.error(tok.col, "'-' must be followed by a word or a phrase")
            return Not(self.atom(), tok.col)
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek()
        assert tok is not None
        self.pos += 1
        if tok.kind == "OR":
            raise self.error(tok.col, "'OR' needs a term on each side")
        if tok.kind == "(":
            nxt = self.peek()
            if nxt is None:
                raise self.error(tok.col, "unbalanced parenthesis: '(' is never closed")
            if nxt.kind == ")":
                raise self.error(tok.col, "empty group '()'")
            node = self.seq()
            if self.peek() is None:
                raise self.error(tok.col, "unbalanced parenthesis: '(' is never closed")
            self.pos += 1  # the ")"
            return node
        if tok.kind == "phrase":
            return self.phrase(tok)
        return self.word(tok)  # a ")" never reaches here: seq stops before it

    def phrase(self, tok: _Tok) -> Node:
        ws = WORD.findall(fold(tok.text))
        if not ws:
            what = "empty phrase" if not tok.text.strip() else "no word in this phrase"
            raise self.error(tok.col, what)
        if len(ws) == 1:
            return Word(ws[0], tok.col)
        body = r"\W+".join(re.escape(w) for w in ws)
        return Pattern(frozenset(ws), _bounded(body), tok.col)

    def word(self, tok: _Tok) -> Node:
        folded = fold(tok.text)
        ws = WORD.findall(folded)
        if len(ws) == 1 and ws[0] == folded:
            return Word(folded, tok.col)
        if not folded:
            raise self.error(tok.col, "nothing to match in this word")
        return Pattern(frozenset(ws), _bounded(re.escape(folded)), tok.col)


def _positive(node: Node) -> bool:
    """Whether a match needs something present (an entry of exclusions alone would match
    nearly every text, which is never what the writer meant)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_positive(n) for n in node.nodes)
    if isinstance(node, Or):
        return all(_positive(n) for n in node.nodes)
    return True


def parse_entry(entry: str) -> Node:
    """Parse one `terms` or `exclude` entry; raises `QuerySyntaxError` (1-based column)."""
    node = _Parser(entry).parse()
    if not _positive(node):
        col = len(entry) - len(entry.lstrip()) + 1
        raise QuerySyntaxError(entry, col, "nothing to look for: this entry only excludes")
    return node


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Doc:
    """An item's title and text folded and split once, shared by every entry."""

    fields: tuple[str, ...]
    tokens: frozenset[str]

    @classmethod
    def of(cls, *texts: str) -> Doc:
        fields = tuple(fold(t) for t in texts if t)
        return cls(fields, frozenset().union(*map(split_words, fields)))


def _words_of(node: Node) -> set[str]:
    if isinstance(node, Word):
        return {node.word}
    if isinstance(node, Pattern):
        return set(node.words)
    if isinstance(node, Not):
        return set()
    return set().union(*(_words_of(n) for n in node.nodes))


def _triggers(node: Node, spread: Mapping[str, int]) -> frozenset[str] | None:
    """Words of which any text matching `node` holds at least one; None when no such set
    is known (an OR branch that is an exclusion). Smaller and rarer is better: a word that
    many entries share ("cloud" in every brand term) is likely common in texts too, so the
    word found in the fewest entries, then the longest, is the trigger."""

    def rarity(word: str) -> tuple[int, int]:
        return (spread.get(word, 0), -len(word))

    if isinstance(node, Word):
        return frozenset((node.word,))
    if isinstance(node, Pattern):
        return frozenset((min(node.words, key=rarity),)) if node.words else None
    if isinstance(node, Not):
        return None
    subs = [_triggers(n, spread) for n in node.nodes]
    known = [s for s in subs if s is not None]
    if isinstance(node, Or):
        return frozenset().union(*known) if len(known) == len(subs) else None
    if not known:
        return None
    return min(known, key=lambda s: (len(s), max(rarity(w) for w in s)))


@dataclass
class _Index:
    """Entries by trigger word, so an item only evaluates those it could match."""

    nodes: list[Node]
    by_word: dict[str, list[int]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()
    always: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        spread = Counter(w for node in self.nodes for w in _words_of(node))
        for i, node in enumerate(self.nodes):
            trig = _triggers(node, spread)
            if trig is None:
                self.always.append(i)
            else:
                for w in trig:
                    self.by_word.setdefault(w, []).append(i)
        self.words = frozenset(self.by_word)

    def candidates(self, doc: Doc) -> Iterable[int]:
        hits = doc.tokens & self.words  # iterates the smaller set
        if not hits:
            return self.always
        if len(hits) == 1 and not self.always:
            return self.by_word[next(iter(hits))]  # already in entry order
        found = set(self.always)
        for w in hits:
            found.update(self.by_word[w])
        return sorted(found)

    def matching(self, doc: Doc) -> list[int]:
        return [i for i in self.candidates(doc) if self.nodes[i].eval(doc)]


class QueryMatcher:
    """A watchlist's query compiled once: `match(title, text)` gives the `terms` entries
    that matched, in order, or `[]` when none did or an `exclude` entry matched."""

    def __init__(self, query: Query) -> None:
        self.terms = tuple(query.terms)
        self.exclude = tuple(query.exclude)
        self.languages = tuple(query.languages)  # applied by the caller, once detected
        self._terms = _Index([parse_entry(t) for t in self.terms])
        self._exclude = _Index([parse_entry(e) for e in self.exclude])
        # Trigger words looked for with `in`, and the automaton for the others (_triggers_in).
        self._in_words: list[str] | None = None
        self._automaton: ahocorasick.Automaton | None = None

    def match(self, title: str, text: str) -> list[str]:
        return self.match_doc(Doc.of(title, text))

    def match_doc(self, doc: Doc) -> list[str]:
        """As `match`, for a caller that already built the `Doc`."""
        hits = self._terms.matching(doc)
        if not hits or any(True for _ in self._excluded(doc)):
            return []
        return [self.terms[i] for i in hits]

    def may_match_markup(self, texts: Sequence[str]) -> bool:
        """False only when no title or text made from these raw strings (plain text or
        HTML source, entities unread) can match: a cheap test that lets a parser skip
        building items the scan would drop. Every word each term needs is looked for as a
        substring of the folded strings, as they are, with their entities read and with
        their tags removed (`Ac<b>me</b>`); a word present only in that loose sense
        lets the item through, and `match` decides."""
        terms = self._terms
        if terms.always:
            return True
        raw = " ".join(texts)
        if "&" in raw:
            raw += " " + html.unescape(raw)
        folded = fold(raw)
        if "<" in folded:
            folded += " " + _TAG.sub("", folded)
        triggers = Doc((), self._triggers_in(folded))
        found: dict[str, bool] = {}

        def present(word: str) -> bool:
            if word not in found:
                found[word] = word in folded
            return found[word]

        return any(_loose(terms.nodes[i], present) for i in terms.candidates(triggers))

    def needles(self, count: Callable[[str], int]) -> frozenset[str] | None:
        """Words of which every text the query matches holds one, chosen as those `count`
        finds fewest of (in one feed, "acme" rather than "cloud" for `"Acme Cloud"`); None
        when a term needs no word (an exclusion alone), or when there are more than
        `MAX_NEEDLES` terms: each needle is a search over the whole feed."""
        if len(self._terms.nodes) > MAX_NEEDLES:
            return None
        found: set[str] = set()
        for node in self._terms.nodes:
            must = _must(node, count)
            if must is None:
                return None
            found |= must
        return frozenset(found)

    def _triggers_in(self, folded: str) -> frozenset[str]:
        """The trigger words found as substrings: `in` tests for a few words, and for a
        large query one Aho-Corasick pass over the text (a thousand terms: ~10 µs for 2 KB)
        for all but the short ones: the automaton reports every occurrence, and a word like
        "io" (of `acme.io`) occurs in most words' endings: 99 % of its reports, a third of
        the prefilter's time with a thousand terms."""
        if self._in_words is None:  # built on first use: most processes never prefilter
            words = sorted(self._terms.words)
            if len(words) > _FEW_WORDS:
                automaton = ahocorasick.Automaton()
                for w in words:
                    if len(w) > _SHORT_WORD:
                        automaton.add_word(w, w)
                if len(automaton):
                    automaton.make_automaton()
                    self._automaton = automaton
                words = [w for w in words if len(w) <= _SHORT_WORD]
            self._in_words = words
        found = {w for w in self._in_words if w in folded}
        if self._automaton is not None:
            found.update(w for _, w in self._automaton.iter(folded))
        return frozenset(found)

    def _excluded(self, doc: Doc) -> Iterable[int]:
        ex = self._exclude
        return (i for i in ex.candidates(doc) if ex.nodes[i].eval(doc))


_FEW_WORDS = 24
#: Terms beyond which a feed's entries are not cut before parsing (`QueryMatcher.needles`).
MAX_NEEDLES = 8
#: Trigger words this short are tested with `in` rather than by the automaton.
_SHORT_WORD = 3
_TAG = re.compile(r"<[^<>]*>")


def _must(node: Node, count: Callable[[str], int]) -> set[str] | None:
    """Words of which any text matching `node` holds one, the fewest by `count`."""
    if isinstance(node, Word):
        return {node.word}
    if isinstance(node, Pattern):
        return {min(sorted(node.words), key=count)} if node.words else None
    if isinstance(node, Not):
        return None
    parts = [_must(n, count) for n in node.nodes]
    if isinstance(node, And):
        known = [p for p in parts if p is not None]
        return min(known, key=lambda p: sum(map(count, p))) if known else None
    if any(p is None for p in parts):
        return None
    return set().union(*(p for p in parts if p is not None))


def _loose(node: Node, present: Callable[[str], bool]) -> bool:
    """`node` evaluated on words present as substrings; exclusions are not judged (True)."""
    if isinstance(node, Word):
        return present(node.word)
    if isinstance(node, Pattern):
        return all(present(w) for w in node.words)
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(_loose(n, present) for n in node.nodes)
    return any(_loose(n, present) for n in node.nodes)


def compile_query(query: Query) -> QueryMatcher:
    """Parse every entry of `query` once; raises `QuerySyntaxError` on the first bad one."""
    return QueryMatcher(query)
