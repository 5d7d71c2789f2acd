"""The shouting rule (classifier.text.caps_ratio / is_shouting) on the seeds and on hard cases."""

from __future__ import annotations

import pytest

from classifier.text import SHOUTING_MIN_RATIO, caps_ratio, is_shouting
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
