"""Sentiment as a user reads it: a score in [-1, 1] and a label, in French and English,
negation and intensity respected."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT
from ereput import sentiment as sentiment_module
from ereput.sentiment import (
    MAX_CHARS,
    NEGATIVE_FROM,
    POSITIVE_FROM,
    Sentiment,
    label_of,
    sentiment,
    use_model,
)


def score(text: str, language: str | None) -> float:
    result = sentiment(text, language)
    assert result is not None
    assert -1.0 <= result.score <= 1.0
    return result.score


@pytest.mark.parametrize(
    ("language", "text", "label"),
    [
        ("fr", "pas terrible", "negative"),
        ("fr", "L'appli ne marche plus du tout", "negative"),
        ("fr", "ça marche pas", "negative"),
        ("fr", "vraiment génial", "positive"),
        ("fr", "très déçu", "negative"),
        ("fr", "nul", "negative"),
        ("fr", "je recommande", "positive"),
        ("fr", "je ne recommande pas", "negative"),
        ("fr", "pas mal du tout", "positive"),
        ("fr", "La maintenance est prévue dimanche.", "neutral"),
        ("en", "not bad at all", "positive"),
        ("en", "I would not recommend them", "negative"),
        ("en", "The app stopped working after the update", "negative"),
        ("en", "Great support, fixed in five minutes!", "positive"),
        ("en", "Maintenance is scheduled for Sunday.", "neutral"),
    ],
)
def test_labels_fr_and_en(language: str, text: str, label: str) -> None:
    assert sentiment(text, language) == Sentiment(score(text, language), label)


@pytest.mark.parametrize(
    ("language", "plain", "negated"),
    [
        ("fr", "je recommande", "je ne recommande pas"),
        ("fr", "c'est génial", "ce n'est pas génial"),
        ("fr", "ça marche", "ça ne marche plus"),
        ("fr", "c'est mal fait", "c'est pas mal fait"),
        ("en", "it is good", "it is not good"),
        ("en", "it works", "it doesn't work"),
        ("en", "bad", "not bad"),
    ],
)
def test_negation_flips_the_sign(language: str, plain: str, negated: str) -> None:
    before, after = score(plain, language), score(negated, language)
    assert before * after < 0, (before, after)


@pytest.mark.parametrize(
    ("language", "plain", "stronger"),
    [
        ("fr", "génial", "vraiment génial"),
        ("fr", "déçu", "très déçu"),
        ("fr", "ne marche plus", "ne marche plus du tout"),
        ("fr", "c'est bien", "c'est bien !!!"),
        ("en", "good", "really good"),
        ("en", "disappointed", "extremely disappointed"),
        ("en", "not bad", "not bad at all"),
        ("en", "this is bad", "this is BAD"),
    ],
)
def test_intensity_raises_the_magnitude(language: str, plain: str, stronger: str) -> None:
    before, after = score(plain, language), score(stronger, language)
    assert abs(after) > abs(before) > 0, (before, after)
    assert (after > 0) == (before > 0)


def test_a_softener_lowers_the_magnitude() -> None:
    assert 0 < score("un peu lent", "fr") * -1 < score("lent", "fr") * -1
    assert 0 < score("slightly slow", "en") * -1 < score("slow", "en") * -1


def test_but_weighs_what_follows() -> None:
    assert score("Super produit mais le support est lent", "fr") < 0
    assert score("Support is slow but the product is great", "en") > 0


def test_unknown_language_is_read_by_the_lexicon_that_knows_the_words() -> None:
    assert label_of(score("très déçu, ne marche plus", None)) == "negative"
    assert label_of(score("really great, I love it", None)) == "positive"
    assert score("", None) == 0.0


def test_a_language_the_model_does_not_read_gets_no_sentiment() -> None:
    assert sentiment("Das ist wirklich schlecht", "de") is None
    assert sentiment("great", "en-US") is not None  # a region tag is its language


def test_thresholds() -> None:
    assert label_of(POSITIVE_FROM) == "positive"
    assert label_of(NEGATIVE_FROM) == "negative"
    assert label_of(0.0) == "neutral"
    assert label_of(1.0) == "positive" and label_of(-1.0) == "negative"


def test_a_long_text_is_read_only_at_its_start() -> None:
    opinion = "Vraiment génial, je recommande. "
    filler = "Le rapport annuel détaille les chiffres du trimestre. " * (MAX_CHARS // 40)
    assert score(opinion + filler + "Une arnaque, nul, fuyez !", "fr") > 0
    assert score(filler + "Une arnaque, nul, fuyez !", "fr") == 0.0


def test_another_model_can_replace_the_default() -> None:
    class Always:
        languages = frozenset({"en", "fr", "de"})

        def score(self, text: str, language: str | None) -> float:
            return -2.0  # out of range: clamped

    use_model(Always())
    try:
        assert sentiment("wunderbar", "de") == Sentiment(-1.0, "negative")
    finally:
        use_model(None)
    assert sentiment_module._model is None
    assert label_of(score("wonderful", "en")) == "positive"


def test_the_benchmark_sample_and_its_held_out_accuracy() -> None:
    spec = importlib.util.spec_from_file_location(
        "sentiment_bench", ROOT / "benchmarks" / "sentiment_bench.py"
    )
    assert spec is not None and spec.loader is not None
    sentiment_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sentiment_bench)

    sample = sentiment_bench.load()
    for lang in ("fr", "en"):
        assert sum(row[0] == lang for row in sample) >= 80
    assert {label for _, label, _ in sample} == {"negative", "neutral", "positive"}
    held_out = sentiment_bench.load(sentiment_bench.HELD_OUT)
    accuracy = sum(
        (got := sentiment(text, lang)) is not None and got.label == label
        for lang, label, text in held_out
    ) / len(held_out)
    assert accuracy >= sentiment_bench.ACCURACY_TARGET
