"""Reasons a moderator can trust: whole words of the comment, no function words, at most three, none on approvals."""

from __future__ import annotations

import re

import pytest

from classifier import Moderator
from classifier.judge import published_rows
from classifier.reasons import FUNCTION_WORDS, fold, is_function_word, reason_word, strip_edges

OWN_CASES = [
    "Ferme ta gueule espèce de connard",
    "T'es qu'un abruti, d'abruti !",
    "Ces gens-là sont des rats, qu'ils dégagent",
    "You are a fucking idiot and a liar",
    "ARRETEZ DE NOUS PRENDRE POUR DES CONS",
    "Un petit tour et puis s'en va !",
    "Si cela continue, je vais finir par manger mes mains",
]


def test_reason_word_keeps_whole_content_words_only():
    assert reason_word("d'abruti,") == "abruti"
    assert reason_word("«connard»") == "connard"
    assert reason_word("qu'il") is None and reason_word("ET") is None and reason_word("!!!") is None
    assert is_function_word("Était") and not is_function_word("abruti")
    assert all(w == fold(w) for w in FUNCTION_WORDS)  # one folded list


@pytest.fixture(scope="module")
def moderator():
    return Moderator.load(sentiment=False)


@pytest.fixture(scope="module")
def scored(moderator, shared_data):
    import pandas as pd

    from classifier.judge import FUNCTIONAL_FILE

    suite = pd.read_csv(FUNCTIONAL_FILE, keep_default_na=False)["text"].tolist()  # the functional suite too
    texts = published_rows(shared_data, "dev")["text"].tolist()[:1500] + suite + OWN_CASES
    return moderator.score(texts)


def _tokens(text: str) -> set[str]:
    return {fold(strip_edges(re.sub(r"^\w{1,5}['’]", "", chunk))) for chunk in text.split()} | {fold(strip_edges(c)) for c in text.split()}


def test_reasons_are_whole_words_of_the_text_never_function_words(scored):
    explained = 0
    for r in scored:
        words = [w for reason in r.reasons if not reason.startswith("shouting") for w in reason.split()]
        if r.decision == "approve":
            assert not words, (r.text, r.reasons)
            continue
        assert len([x for x in r.reasons if not x.startswith("shouting")]) <= 3
        tokens = _tokens(r.text)
        for word in words:
            assert fold(word) in tokens, (word, r.text)  # a whole word, never a fragment inside one
        for reason in r.reasons:
            if not reason.startswith("shouting"):
                assert not all(is_function_word(w) for w in reason.split()), (reason, r.text)
        explained += bool(words)
    assert explained >= 20  # real flagged comments do get reasons


def test_insults_are_the_reasons_of_an_insulting_comment(moderator):
    reasons = moderator.score_one("Ferme ta gueule espèce de connard").reasons
    assert "connard" in reasons
    assert not any(is_function_word(r) for r in reasons)
