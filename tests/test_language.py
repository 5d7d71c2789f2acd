"""Language detection: French and English comments of ../shared/data, short fragments, other languages."""

from __future__ import annotations

import csv
import random

import pytest

from classifier.language import MIN_LETTERS_OTHER, detect, detect_one
from classifier.moderator import Moderator

FILES = {"fr": ("fr_news_published_20min.csv", "fr_toxic_toxifrench.csv"), "en": ("en_news_ucc.csv",)}


def _sample(path, n=150):
    with open(path, encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh) if len(row["text"].split()) >= 3]
    return random.Random(0).sample(texts, n)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_real_comments_and_their_first_three_words_are_detected(shared_data, language):
    texts = [t for name in FILES[language] for t in _sample(shared_data / name)]
    whole = [d.language for d in detect(texts)]
    short = [d.language for d in detect([" ".join(t.split()[:3]) for t in texts])]
    assert sum(x == language for x in whole) / len(texts) >= 0.95
    assert sum(x == language for x in short) / len(texts) >= 0.85
    assert None not in whole + short  # French and English are never refused as "another language"


def test_short_texts_are_limited_to_french_and_english():
    for text in ["yo hamburger", "ok", "lol", "mdr", "super article", "Bof"]:
        assert detect_one(text).language in ("fr", "en"), text
    assert detect_one("👍👍 !!!").language == "fr"  # no letters: the default language


def test_clearly_other_languages_are_unsupported():
    german = detect_one("Das ist doch völlig übertrieben, die Regierung sollte sich schämen.")
    spanish = detect_one("No entiendo por qué el gobierno sigue gastando dinero en esto.")
    assert (german.language, german.guess) == (None, "de")
    assert (spanish.language, spanish.guess) == (None, "es")
    short_german = "Danke schön"  # too few letters to refuse
    assert len(short_german) < MIN_LETTERS_OTHER and detect_one(short_german).language in ("fr", "en")


def test_every_result_records_the_language_it_was_scored_as():
    mod = Moderator.load(sentiment=False, reasons=False)
    results = mod.score(["Merci pour cet article très clair", "Thanks, a very clear article", "Vielen Dank für den sehr klaren Artikel heute"])
    assert [r.language for r in results] == ["fr", "en", None]
    assert [r.to_dict()["language"] for r in results] == ["fr", "en", None]
    given = mod.score(["Thanks"], languages=["fr"])  # a caller who knows the language says so
    assert given[0].language == "fr"
