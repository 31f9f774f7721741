"""The language of a mention: detected when the text says it, the feed's otherwise."""

from __future__ import annotations

import pytest

from ereput.language import SHORT, detect_language, normalise


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Acme Cloud est en panne depuis ce matin, impossible de se connecter au tableau.", "fr"),
        ("Acme Cloud is down again this morning, nobody can log in to the dashboard.", "en"),
        ("Ich bin sehr enttäuscht von Acme Cloud, der Dienst ist seit gestern langsam.", "de"),
        ("El servicio de Acme Cloud es muy lento desde ayer y nadie responde.", "es"),
    ],
)
def test_detects_the_language_of_a_sentence(text: str, language: str) -> None:
    assert detect_language(text) == language
    # A feed's declared language does not override what a long enough text says.
    assert detect_language(text, "it-IT") == language


def test_a_short_text_is_too_short_to_tell_without_a_hint() -> None:
    assert detect_language("pas terrible") is None
    assert detect_language("top") is None
    assert detect_language("") is None
    assert detect_language("   \n") is None


def test_a_short_text_takes_the_feeds_language() -> None:
    assert detect_language("pas terrible", "fr-FR") == "fr"
    assert detect_language("Installation facile et documentation claire.", "fr") == "fr"
    assert len("Installation facile et documentation claire.") < SHORT
    assert detect_language("nul", "EN_us") == "en"
    assert detect_language("nul", "not a language") is None


def test_hostile_text_gives_no_error() -> None:
    assert detect_language("\ud800\x00\x01" * 100) is None
    assert detect_language("\x00" * 5000, "fr") == "fr"


def test_a_long_text_is_read_only_at_its_start() -> None:
    text = "Le service client a répondu rapidement et le problème est réglé. " * 20
    assert detect_language(text + "The rest is in English. " * 1000) == "fr"


def test_normalise() -> None:
    assert normalise("en-US") == "en"
    assert normalise("fr_FR") == "fr"
    assert normalise("FR") == "fr"
    assert normalise("haw") == "haw"
    assert normalise("") is None
    assert normalise(None) is None
    assert normalise("english") is None
