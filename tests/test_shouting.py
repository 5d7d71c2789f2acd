"""The shouting rule (classifier.text.caps_ratio / is_shouting) on the seeds and on hard cases."""

from __future__ import annotations

import pytest

from classifier.text import DOC_SEP, SHOUTING_MIN_RATIO, caps_ratio, is_shouting, shouting_scores, split_batch
from tests.conftest import SEEDS


def _seed_comments(prefix: str) -> list[str]:
    """The bulleted comments of a seed page dump ("  • text"), read without the parser."""
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return [line[4:].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("  • ")]


@pytest.fixture(scope="module")
def seed_comments() -> dict[str, list[str]]:
    return {"000": _seed_comments("000"), "004": _seed_comments("004")}


def test_seed_pages_hold_the_seven_comments(seed_comments):
    assert [len(seed_comments["000"]), len(seed_comments["004"])] == [3, 4]


def test_exactly_the_two_all_caps_seed_comments_shout(seed_comments):
    shouting = [text[:20] for texts in seed_comments.values() for text in texts if is_shouting(text)]
    assert shouting == ["LES NOUVEAUX SOVIETS", "LORSQUE CHAMBERLAIN "]
    for texts in seed_comments.values():
        for text in texts:
            if not is_shouting(text):
                assert caps_ratio(text) < 0.2, text[:40]


@pytest.mark.parametrize(
    "text",
    [
        "L'ONU, l'OTAN et l'UE ont condamné l'attaque",
        "Bravo à la CGT, la CFDT, FO et l'UNSA pour ce front commun face au MEDEF et à la CPME",
        "Le PSG bat l'OM, la LFP et l'UEFA saluent le match ; COP28, G7 et G20 au programme",
        "UE ONU OTAN SNCF RATP",
        "Selon l'INSEE, le PIB et la TVA du T3 : voir https://WWW.INSEE.FR/FR/STATISTIQUES",
        "regardez ça @MARCEL_DURAND #SCANDALE",
        "Je suis bien d'accord avec cet article.\n-- JEAN-PIERRE DUPONT",
        "OK",
        "",
    ],
)
def test_acronyms_links_mentions_numbers_and_signatures_do_not_shout(text):
    assert not is_shouting(text)


@pytest.mark.parametrize(
    "text",
    [
        "ARRÊTEZ DE NOUS MENTIR",
        "VA TE FAIRE VOIR",
        "VOUS ÊTES TOUS DES MENTEURS !!! https://example.com",
        "LA CGT ET LE MEDEF SIGNENT ENFIN UN ACCORD, QUELLE BLAGUE",
    ],
)
def test_all_caps_comments_shout(text):
    assert is_shouting(text)
    assert caps_ratio(text) >= SHOUTING_MIN_RATIO


def test_caps_ratio_is_a_share_between_zero_and_one():
    assert caps_ratio("Bonjour à tous") == pytest.approx(1 / 11)  # "à": single letters do not count
    assert caps_ratio("") == 0.0
    assert caps_ratio("TOUT EN CAPITALES") == 1.0


def test_a_batch_is_measured_as_each_text_alone(seed_comments):
    texts = [t for ts in seed_comments.values() for t in ts] + [
        "", "   ", "ONU OTAN", "L'ONU, l'OTAN et l'UE ont tort", "TOUT EN CAPITALES ICI", "Bonjour\n-- JEAN DUPONT",
        "VOIR HTTP://EXEMPLE.FR/ABC ET @ABRUTI", "COP28 G7 2024", "un \ue000 SÉPARATEUR \ue000 DANS LE TEXTE",
        "A" * 40_000,  # one very long token
    ]  # fmt: skip
    batch = shouting_scores(texts)
    assert batch == [shouting_scores([t])[0] for t in texts]
    assert batch == [(is_shouting(t), caps_ratio(t)) for t in texts]
    assert batch[-1] == (True, 1.0)  # counts of one token are capped, not wrapped
    assert not batch[texts.index("L'ONU, l'OTAN et l'UE ont tort")][0]
    assert shouting_scores([]) == []


def test_split_batch_puts_one_separator_between_documents_even_if_a_text_holds_it():
    assert split_batch(["a b", "", "c"]) == ["a", "b", DOC_SEP, DOC_SEP, "c"]
    assert split_batch([f"a {DOC_SEP} b", "c"]) == ["a", "b", DOC_SEP, "c"]  # a separator token of its own: replaced
    assert split_batch([f"a{DOC_SEP}b", "c"]) == [f"a{DOC_SEP}b", DOC_SEP, "c"]  # inside a token: harmless
