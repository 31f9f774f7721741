"""The sentiment of a mention: a score in [-1, 1] and a label.

The default model applies VADER's rules (Hutto & Gilbert, ICWSM 2014) to two lexicons:
English from the `vaderSentiment` package itself, French from Vader_FR (a manual
translation of it, MIT, shipped in `ereput/lexicons/`), both completed by `_COMPLEMENT`, the
brand-complaint vocabulary they lack ("ça ne marche plus", "outage", "refund"…), written
for this project. Per sentence, each lexicon word's valence (-4…4) is

- raised or lowered by the intensifiers in the three words before it ("très déçu",
  "really great", "un peu lent"), and by being written in capitals in a text that is not;
- multiplied by -0.74 when a negation stands in the three words before it ("not good",
  "pas génial", "ne marche plus", "sans problème"), or, in French, right after it
  ("ça marche pas"); a negation with "at all" / "du tout" weighs a quarter more
  ("not bad at all", "ne marche plus du tout");
- halved before the text's first "but" / "mais" and raised by half after it;

a few idioms have their own valence ("pas terrible" is negative, "rien à redire"
positive). The sum, plus a little for each "!", is squashed into [-1, 1] by
`s / sqrt(s² + 15)` (VADER's normalisation). Only the first `MAX_CHARS` characters are read,
so a long blog post costs what a comment does.

Labels use VADER's documented thresholds: `positive` from `POSITIVE_FROM` (0.05) up,
`negative` from `NEGATIVE_FROM` (-0.05) down, `neutral` between.

Anything with a `score(text, language) -> float` and a `languages` set can replace the
default model (`use_model`): a better model later, a stub in tests.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Protocol

from ereput.text import fold

#: Scores at or above this are `positive`.
POSITIVE_FROM = 0.05
#: Scores at or below this are `negative`.
NEGATIVE_FROM = -0.05
#: Only the start of a long text is read: the title and the first paragraphs say it.
MAX_CHARS = 1000


@dataclass(frozen=True)
class Sentiment:
    score: float  # in [-1, 1]
    label: str  # negative | neutral | positive


class SentimentModel(Protocol):
    """What the scan needs of a sentiment model."""

    #: ISO 639-1 codes the model reads; other languages get no sentiment.
    languages: frozenset[str]

    def score(self, text: str, language: str | None) -> float:
        """A score in [-1, 1]; `language` None when unknown (the model guesses)."""
        ...


def label_of(score: float) -> str:
    """The label of a score, by the thresholds above."""
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_FROM:
        return "negative"
    return "neutral"


_model: SentimentModel | None = None


def use_model(model: SentimentModel | None) -> None:
    """Score with `model` from now on (None: back to the default lexicon model)."""
    global _model
    _model = model


def sentiment(text: str, language: str | None) -> Sentiment | None:
    """The sentiment of `text`, in `language` (ISO 639-1, None when unknown).

    None when the language is known and the model does not read it (a German post gets no
    sentiment rather than a wrong one)."""
    model = _model or default_model()
    lang = language[:2].lower() if language else None
    if lang is not None and lang not in model.languages:
        return None
    score = round(max(-1.0, min(1.0, model.score(text, lang))), 4)
    return Sentiment(score, label_of(score))


# --- the default model -------------------------------------------------------------------

_B_INCR = 0.293  # VADER's intensifier step
_CAPS_INCR = 0.733  # VADER's emphasis for a word in capitals
_N_SCALAR = -0.74  # VADER's negation factor
_AT_ALL = 1.25  # "not … at all", "pas du tout"
_BANG = 0.292  # each "!" (up to 4)


def _words(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True, eq=False)
class _Rules:
    negations: frozenset[str]
    after_negations: frozenset[str]  # French: "ça marche pas"
    boosters: dict[str, float]
    contrasts: frozenset[str]
    at_all: tuple[tuple[str, str], ...]
    idioms: dict[tuple[str, ...], float]


_EN = _Rules(
    negations=frozenset(
        _words(
            "not no never none nobody nothing neither nor nowhere without cannot cant dont "
            "doesnt didnt isnt wasnt arent werent wont wouldnt shouldnt couldnt havent hasnt "
            "hadnt aint neednt rarely seldom hardly barely don't doesn't didn't isn't "
            "wasn't aren't weren't won't wouldn't shouldn't couldn't haven't hasn't hadn't "
            "ain't can't needn't mustn't"
        )
    ),
    after_negations=frozenset(),
    boosters={
        **dict.fromkeys(
            _words(
                "absolutely amazingly awfully completely considerably decidedly deeply "
                "enormously entirely especially exceptionally extremely fabulously fully "
                "greatly highly hugely incredibly intensely majorly more most particularly "
                "purely quite really remarkably so substantially thoroughly totally "
                "tremendously truly uber unbelievably unusually utterly very super "
                "insanely ridiculously seriously strongly"
            ),
            _B_INCR,
        ),
        **dict.fromkeys(
            _words(
                "almost barely hardly kinda less little marginally occasionally partly "
                "scarcely slightly somewhat sorta fairly pretty"
            ),
            -_B_INCR,
        ),
    },
    contrasts=frozenset({"but", "however", "although", "though", "yet"}),
    at_all=(("at", "all"), ("whatsoever", "")),
    idioms={
        ("stopped", "working"): -2.0,
        ("stopped", "responding"): -2.0,
        ("no", "longer", "works"): -2.0,
        ("never", "again"): -2.0,
        ("waste", "of", "money"): -2.8,
        ("waste", "of", "time"): -2.5,
        ("rip", "off"): -2.5,
        ("not", "worth"): -1.8,
        ("cant", "complain"): 1.5,
        ("can't", "complain"): 1.5,
        ("no", "complaints"): 1.8,
        ("no", "issues"): 1.5,
        ("no", "problems"): 1.5,
        ("on", "hold"): -1.2,
        ("went", "down"): -1.5,
        ("is", "down"): -1.5,
        ("was", "down"): -1.5,
        ("goes", "down"): -1.5,
        ("down", "again"): -1.8,
        ("customer", "service"): 0.0,
        ("customer", "support"): 0.0,
        ("five", "stars"): 2.5,
        ("one", "star"): -2.0,
        ("highly", "recommend"): 2.6,
        ("piece", "of", "junk"): -2.8,
        ("kind", "of"): 0.0,
        ("advise", "against"): -2.0,
        ("doesn't", "work"): -2.0,
        ("don't", "work"): -2.0,
        ("didn't", "work"): -2.0,
        ("won't", "work"): -2.0,
        ("not", "working"): -2.0,
        ("no", "refund"): -2.0,
        ("for", "nothing"): -1.5,
        ("no", "answer"): -1.8,
        ("no", "reply"): -1.8,
        ("no", "response"): -1.8,
        ("sort", "of"): 0.0,
    },
)

_FR = _Rules(
    negations=frozenset(_words("ne n pas jamais rien aucun aucune sans ni guere nullement point")),
    after_negations=frozenset({"pas", "jamais", "guere", "point"}),
    boosters={
        **dict.fromkeys(
            _words(
                "absolument archi beaucoup carrement completement entierement extremement "
                "franchement hyper incroyablement particulierement profondement serieusement "
                "super tellement terriblement totalement tres trop ultra vachement vraiment "
                "vraiement tout fortement"
            ),
            _B_INCR,
        ),
        **dict.fromkeys(
            _words("assez legerement moyennement peu plutot presque quasiment relativement"),
            -_B_INCR,
        ),
    },
    contrasts=frozenset({"mais", "cependant", "pourtant", "toutefois", "neanmoins"}),
    at_all=(("du", "tout"),),
    idioms={
        ("pas", "terrible"): -1.6,
        ("pas", "si", "terrible"): -1.0,
        ("pas", "top"): -1.5,
        ("pas", "fou"): -1.2,
        ("pas", "folichon"): -1.4,
        ("pas", "mal"): 1.4,
        ("pas", "de", "souci"): 1.2,
        ("pas", "de", "soucis"): 1.2,
        ("pas", "de", "probleme"): 1.2,
        ("aucun", "souci"): 1.5,
        ("aucun", "probleme"): 1.5,
        ("rien", "a", "redire"): 2.2,
        ("rien", "a", "dire"): 1.5,
        ("au", "top"): 2.5,
        ("que", "du", "bonheur"): 3.0,
        ("du", "bonheur"): 2.5,
        ("tombe", "en", "panne"): -2.2,
        ("en", "panne"): -2.2,
        ("hors", "service"): -2.0,
        ("a", "fuir"): -2.8,
        ("fuyez", "pauvres", "fous"): -3.0,
        ("service", "client"): 0.0,
        ("n", "importe", "quoi"): -2.0,
        ("perte", "de", "temps"): -2.5,
        ("une", "honte"): -2.5,
        ("je", "recommande"): 2.0,
        ("je", "vous", "le", "recommande"): 2.2,
        ("je", "le", "recommande"): 2.0,
        ("je", "la", "recommande"): 2.0,
        ("un", "peu"): 0.0,
        ("trop", "cher"): -2.0,
        ("trop", "chere"): -2.0,
        ("hors", "de", "prix"): -2.2,
        ("cinq", "etoiles"): 2.5,
        ("une", "etoile"): -2.0,
        ("bien", "sur"): 0.0,
        ("quand", "meme"): 0.0,
        ("plus", "jamais"): -2.0,
        ("jamais", "plus"): -2.0,
        ("a", "eviter"): -2.5,
        ("fonctionne", "bien"): 1.9,
        ("marche", "bien"): 1.9,
        ("pour", "rien"): -1.5,
        ("pas", "de", "remboursement"): -2.0,
        ("pas", "de", "reponse"): -1.8,
        ("aucune", "reponse"): -1.8,
        ("sans", "reponse"): -1.8,
    },
)

# Brand-complaint vocabulary missing from (or mis-weighted in) the packaged lexicons,
# on VADER's scale (-4…4). Written for ereput; keys are folded (no accents, lower case).
_COMPLEMENT: dict[str, dict[str, float]] = {
    "en": {
        "works": 1.3,
        "working": 1.0,
        "worked": 1.0,
        "outage": -2.2,
        "outages": -2.2,
        "downtime": -2.0,
        "laggy": -1.8,
        "buggy": -2.0,
        "bug": -1.2,
        "bugs": -1.4,
        "glitch": -1.3,
        "glitchy": -1.8,
        "crashes": -2.0,
        "crashed": -2.0,
        "crashing": -2.0,
        "freezes": -1.8,
        "unusable": -2.6,
        "unreliable": -2.0,
        "unresponsive": -1.8,
        "reliable": 1.8,
        "overpriced": -2.0,
        "expensive": -1.0,
        "slow": -1.5,
        "sluggish": -1.6,
        "fast": 1.2,
        "quick": 0.9,
        "quickly": 0.9,
        "smooth": 1.6,
        "seamless": 2.0,
        "intuitive": 1.6,
        "recommend": 2.0,
        "recommended": 1.6,
        "meh": -1.0,
        "mediocre": -1.6,
        "ripoff": -2.6,
        "scammed": -2.8,
        "lost": -1.3,
        "hassle": -1.5,
        "nightmare": -2.8,
        "fixed": 1.0,
        "stable": 1.2,
        "unstable": -1.6,
        "ignored": -1.6,
        "unanswered": -1.6,
        "broken": -2.2,
        "support": 0.0,
        "issue": -1.0,
        "issues": -1.2,
        "worth": 1.4,
        "pleased": 2.0,
        "impressed": 2.2,
        "disappointing": -2.4,
        "disappointed": -2.3,
        "terrible": -2.6,
        "okay": 0.6,
        "ok": 0.6,
        "fine": 0.9,
        "decent": 1.2,
        "cancelled": -1.0,
        "canceled": -1.0,
        "cancel": -0.6,
        "subscription": 0.0,
        "charged": -0.8,
        "refund": 0.0,  # "got a refund" / "no refund": the idioms say which
        "locked": -1.5,
        "endless": -1.5,
        "reply": 0.8,
        "replies": 0.8,
        "replied": 0.8,
        "answer": 0.6,
        "answers": 0.6,
        "answered": 0.8,
        "responds": 0.8,
        "responsive": 1.8,
    },
    "fr": {
        "marche": 1.2,
        "marchait": 1.0,
        "fonctionne": 1.3,
        "fonctionnait": 1.0,
        "fonctionnent": 1.3,
        "lent": -1.6,
        "lente": -1.6,
        "lents": -1.6,
        "lenteur": -1.6,
        "lenteurs": -1.6,
        "rapide": 1.3,
        "rapides": 1.3,
        "rapidement": 1.0,
        "panne": -2.2,
        "pannes": -2.2,
        "bug": -1.4,
        "bugs": -1.6,
        "bugue": -1.8,
        "beugue": -1.8,
        "plante": -1.8,
        "plantage": -2.0,
        "plantages": -2.0,
        "bof": -1.2,
        "nickel": 2.2,
        "top": 2.2,
        "nul": -2.5,
        "nulle": -2.5,
        "nuls": -2.5,
        "genial": 3.0,
        "geniale": 3.0,
        "geniaux": 3.0,
        "decu": -2.2,
        "decue": -2.2,
        "decus": -2.2,
        "decevant": -2.3,
        "decevante": -2.3,
        "deception": -2.3,
        "recommande": 1.8,
        "recommander": 1.6,
        "recommandons": 1.8,
        "cher": -1.0,
        "chere": -1.0,
        "chers": -1.0,
        "horrible": -2.5,
        "parfait": 2.8,
        "parfaite": 2.8,
        "parfaitement": 2.2,
        "impeccable": 2.8,
        "satisfait": 2.0,
        "satisfaite": 2.0,
        "satisfaits": 2.0,
        "insatisfait": -2.0,
        "insatisfaite": -2.0,
        "mecontent": -2.0,
        "mecontente": -2.0,
        "content": 2.0,
        "contents": 2.0,
        "ravi": 2.6,
        "ravie": 2.6,
        "fiable": 1.8,
        "fiables": 1.8,
        "inutilisable": -2.6,
        "plantee": -1.8,
        "galere": -2.0,
        "galerer": -1.8,
        "soucis": -1.0,
        "souci": -1.0,
        "probleme": -1.3,
        "problemes": -1.4,
        "mediocre": -2.0,
        "moyen": -0.6,
        "correct": 0.9,
        "sympa": 1.8,
        "efficace": 2.0,
        "efficaces": 2.0,
        "reactif": 2.0,
        "reactive": 2.0,
        "reactifs": 2.0,
        "bien": 1.5,
        "mal": -1.5,
        "bon": 1.6,
        "bonne": 1.6,
        "terrible": -1.5,
        "remboursement": -0.8,
        "rembourse": -0.5,
        "attente": -0.6,
        "injoignable": -2.2,
        "injoignables": -2.2,
        "inadmissible": -2.6,
        "scandaleux": -2.6,
        "lamentable": -2.6,
        "honteux": -2.4,
        "catastrophique": -3.0,
        "catastrophe": -2.8,
        "arnaque": -3.0,
        "arnaques": -3.0,
        "escroquerie": -3.0,
        "fuyez": -2.8,
        "eviter": -1.5,
        "evitez": -2.2,
        "adore": 3.0,
        "aime": 2.0,
        "deteste": -2.8,
        "merci": 1.5,
        "bravo": 2.4,
        "super": 2.4,
        "excellent": 3.0,
        "excellente": 3.0,
        "agreable": 1.8,
        "simple": 1.0,
        "intuitif": 1.8,
        "intuitive": 1.8,
        "complique": -1.3,
        "compliquee": -1.3,
        "lourd": -1.0,
        "lourde": -1.0,
        "stable": 1.2,
        "instable": -1.8,
        "perdu": -1.3,
        "perdues": -1.3,
        "perdus": -1.3,
        "ignore": -1.2,
        "desastre": -3.0,
        "desastreux": -3.0,
        "pire": -2.6,
        "meilleur": 2.4,
        "meilleure": 2.4,
        "incompetent": -2.4,
        "incompetents": -2.4,
        "incompetence": -2.4,
        "profiter": 1.0,
        "plaisir": 2.0,
        "regle": 1.0,
        "resolu": 1.5,
        "merveille": 2.8,
        "bluffant": 2.6,
        "decois": -2.2,
        "decoit": -2.2,
        "facture": -0.3,
        "facturer": -0.6,
        "cheres": -1.0,
        "abonnement": 0.0,
        "coupure": -1.6,
        "coupures": -1.8,
        "ralentissements": -1.6,
        "deconseille": -2.4,
        "deconseillons": -2.4,
        "interminable": -2.0,
        "bloque": -1.5,
        "bloquee": -1.5,
        "repond": 0.8,
        "repondent": 0.8,
        "rappelle": 0.6,
        # Vader_FR words translated from another sense: "sur" (sure), "prix" (prize),
        # "partir" (leave), "nouvelle" (news), "sauvegarde" (save), "ouvert" (open).
        "sur": 0.0,
        "prix": 0.0,
        "partir": 0.0,
        "nouvelle": 0.0,
        "nouvelles": 0.0,
        "nouveau": 0.0,
        "sauvegarde": 0.0,
        "sauvegardes": 0.0,
        "creer": 0.0,
        "ouvert": 0.0,
    },
}

_LEXICON_FILES = {
    "en": ("vaderSentiment", "vader_lexicon.txt", "\t"),
    "fr": ("ereput", "lexicons/vader_fr.txt", "->"),
}

# Words, "!", commas and sentence ends; "n't" stays on its word, French elisions split
# ("n'est" gives "n", "est").
_TOKEN = re.compile(r"[a-z]+(?:'t\b)?|[.!?;:,]")


_PUNCTUATION = frozenset(".!?;:,")
_WORD = re.compile(r"[a-z]{2,}(?:'t)?")


@cache
def _lexicon(language: str) -> dict[str, float]:
    package, name, sep = _LEXICON_FILES[language]
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    lex: dict[str, float] = {}
    for line in text.splitlines():
        word, found, rest = line.partition(sep)
        if not found:
            continue
        try:
            value = float(rest.split("\t", 1)[0])
        except ValueError:
            continue
        key = fold(word.strip().strip(",;.")).replace("’", "'")
        if _WORD.fullmatch(key):  # emoticons and phrases are not read
            lex.setdefault(key, value)
    lex.update(_COMPLEMENT[language])
    return lex


class LexiconModel:
    """VADER's rules over the English and French lexicons (see the module's docstring)."""

    languages = frozenset({"en", "fr"})

    def score(self, text: str, language: str | None) -> float:
        tokens, caps = _tokens(text)
        if language in self.languages:
            total, _ = _score(tokens, caps, language)
        else:  # unknown: the lexicon that recognises more words reads it
            readings = [_score(tokens, caps, lang) for lang in ("en", "fr")]
            total = max(readings, key=lambda reading: reading[1])[0]
        return total / math.sqrt(total * total + 15) if total else 0.0


@cache
def default_model() -> LexiconModel:
    return LexiconModel()


def _tokens(text: str) -> tuple[list[str], frozenset[str]]:
    text = text[:MAX_CHARS].replace("’", "'")
    # A word in capitals stands out only in a text that is not all capitals.
    caps = frozenset(fold(w) for w in _CAPS.findall(text))
    # Folded French and English are ASCII: other scripts have no lexicon words anyway.
    tokens = _TOKEN.findall(fold(text))
    if len(caps) * 2 > len(tokens):
        caps = frozenset()
    return tokens, caps


_CAPS = re.compile(r"[A-Z]{3,}")


def _score(tokens: list[str], caps: frozenset[str], language: str) -> tuple[float, int]:
    """The summed valence of `tokens` and how many lexicon words it counted."""
    rules = _EN if language == "en" else _FR
    lex = _lexicon(language)
    idioms = _idioms_by_first_word(rules)
    total = 0.0
    hits = 0
    contrast_seen = False
    sentence = 0.0
    bangs = 0
    start = 0  # where the reach of a negation or an intensifier begins
    n = len(tokens)
    skip_to = 0
    # Most words carry nothing: only these positions are looked at.
    interesting = _interesting(language)
    positions = [j for j, w in enumerate(tokens) if w in interesting]
    negations = {j for j in positions if tokens[j] in rules.negations}
    after_negations = {j for j in positions if tokens[j] in rules.after_negations}
    for i in positions:
        if i < skip_to:
            continue
        word = tokens[i]
        if word in _PUNCTUATION:
            # A comma or a colon ends the reach of a negation or an intensifier; the
            # others end the sentence.
            if word == "!":
                bangs += 1
            if word not in ",:":
                total += _bang(sentence, bangs)
                sentence, bangs = 0.0, 0
            start = i + 1
            continue
        if word in rules.contrasts and not contrast_seen:
            contrast_seen = True
            total *= 0.5
            sentence *= 0.5
            continue
        valence, width = _idiom(tokens, i, idioms)
        negatable = width == 0
        if width:
            skip_to = i + width
        elif word in rules.boosters and i + 1 < n and tokens[i + 1] in lex:
            continue  # "très" in "très déçu" only boosts
        elif word in rules.negations:
            continue
        else:
            valence = lex.get(word, 0.0)
        if valence:
            hits += 1
            valence = _boost(valence, tokens, i, start, rules, word in caps)
            if negatable and (
                any(j in negations for j in range(max(start, i - 3), i))
                or i + 1 in after_negations
                or i + 2 in after_negations
            ):
                valence *= _N_SCALAR
                if _at_all(tokens, i, start, rules):
                    valence *= _AT_ALL
            if contrast_seen:
                valence *= 1.5
            sentence += valence
    total += _bang(sentence, bangs)
    return total, hits


@cache
def _interesting(language: str) -> frozenset[str]:
    """The words `_score` looks at: lexicon words, punctuation, idioms' first words,
    contrasts and negations (intensifiers are looked at from the word they raise)."""
    rules = _EN if language == "en" else _FR
    return frozenset(_lexicon(language)).union(
        _PUNCTUATION, _idioms_by_first_word(rules), rules.contrasts, rules.negations
    )


def _bang(sentence: float, bangs: int) -> float:
    if not sentence:
        return 0.0
    return sentence + math.copysign(min(bangs, 4) * _BANG, sentence)


def _idiom(
    tokens: list[str], i: int, idioms: dict[str, list[tuple[tuple[str, ...], float]]]
) -> tuple[float, int]:
    for key, valence in idioms.get(tokens[i], ()):
        if tuple(tokens[i : i + len(key)]) == key:
            return valence, len(key)
    return 0.0, 0


@cache
def _idioms_by_first_word(
    rules: _Rules,
) -> dict[str, list[tuple[tuple[str, ...], float]]]:
    """The idioms by their first word, longest first."""
    index: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for key, valence in sorted(rules.idioms.items(), key=lambda kv: -len(kv[0])):
        index.setdefault(key[0], []).append((key, valence))
    return index


def _boost(
    valence: float, tokens: list[str], i: int, start: int, rules: _Rules, capital: bool
) -> float:
    sign = 1.0 if valence > 0 else -1.0
    for distance, weight in ((1, 1.0), (2, 0.95), (3, 0.9)):
        j = i - distance
        if j < start:
            break
        step = rules.boosters.get(tokens[j])
        if step:
            valence += sign * step * weight
    if capital:
        valence += sign * _CAPS_INCR
    return valence


def _at_all(tokens: list[str], i: int, start: int, rules: _Rules) -> bool:
    window = tokens[max(start, i - 4) : i + 4]
    pairs = set(zip(window, [*window[1:], ""], strict=True))
    return any(p in pairs for p in rules.at_all)


__all__ = [
    "NEGATIVE_FROM",
    "POSITIVE_FROM",
    "LexiconModel",
    "Sentiment",
    "SentimentModel",
    "label_of",
    "sentiment",
    "use_model",
]
