"""The page-dump parser on the five seeds and on a hand-made page with replies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.parse import iter_pages, parse_page, parse_path
from tests.conftest import SEEDS

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
SEED = {path.name[:3]: path for path in sorted(SEEDS.glob("*.txt"))}

EXPECTED = {
    "000": [
        ("FAKHOURI", "2015-09-19T19:55:00", "Il ne faut pas interprété le voyage de BN à Moscou"),
        ("LA LIBRE EXPRESSION", "2015-09-19T18:22:00", "LES NOUVEAUX SOVIETS JOUENT À LA ROULETTE RUSSE"),
        ("FRIK-A-FRAK", "2015-09-19T14:31:00", "Ce qui m'etonne surtout c'est le voyage precipite"),
    ],
    "004": [
        ("FRIK-A-FRAK", "2016-07-14T23:05:00", "Quand on en arrive à faire des comparaisons"),
        ("LA LIBRE EXPRESSION", "2016-07-14T18:30:00", "LORSQUE CHAMBERLAIN ET D,AUTRES SE TRIMBALLAIENT"),
        ("FRIK-A-FRAK", "2016-07-14T17:55:00", "Il faut aussi se méfier de ces fourbes"),
        ("FRIK-A-FRAK", "2016-07-14T15:12:00", "Je ne comprend plus rien"),
    ],
}


@pytest.mark.parametrize("seed", ["000", "004"])
def test_seed_comments_authors_timestamps_in_document_order(seed):
    comments = parse_path(SEED[seed])
    assert [(c.author, c.published) for c in comments] == [(a, p) for a, p, _ in EXPECTED[seed]]
    for comment, (_, _, start) in zip(comments, EXPECTED[seed]):
        assert comment.text.startswith(start)
        assert comment.reply_to is None
        assert comment.page == str(SEED[seed])


def test_seed_texts_are_whole_and_exclude_author_and_timestamp():
    first, second, third = parse_path(SEED["000"])
    assert first.text.endswith("Il va falloir agrandir les cimetières syriens...")
    assert second.text == (
        "LES NOUVEAUX SOVIETS JOUENT À LA ROULETTE RUSSE.... GARE AU COUP ! "
        "MONTER SUR DES ESCABEAUX POUR AGRANDIR SA TAILLE EST UN JEU TRÈS DANGEREUX..."
    )
    assert third.text.endswith("A suivre !")
    for comment in (first, second, third):
        assert comment.author not in comment.text
        assert "septembre" not in comment.text
        assert "•" not in comment.text


@pytest.mark.parametrize("seed", ["000", "004"])
def test_featured_preview_is_counted_once(seed):
    page = parse_page(SEED[seed])
    assert page.declared_count == len(page.comments) == len(EXPECTED[seed])
    assert len({c.id for c in page.comments}) == len(page.comments)
    assert len({(c.author, c.published) for c in page.comments}) == len(page.comments)
    assert page.warnings == ()


@pytest.mark.parametrize(
    ("seed", "status"), [("000", "open"), ("001", "closed"), ("002", "empty"), ("003", "absent"), ("004", "open")]
)
def test_seed_status_and_counts(seed, status):
    page = parse_page(SEED[seed])
    assert page.status == status
    assert page.format == "dump"
    assert len(page.comments) == {"000": 3, "004": 4}.get(seed, 0)


def test_ids_are_stable_across_runs_and_unique(tmp_path):
    first = [c.id for page in iter_pages([SEEDS]) for c in page.comments]
    again = [c.id for page in iter_pages([SEEDS]) for c in page.comments]
    assert first == again
    assert len(first) == len(set(first)) == 7
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in first)
    copy = tmp_path / "page.txt"
    shutil.copy(SEED["000"], copy)
    assert {c.id for c in parse_path(copy)}.isdisjoint(first)  # the page is part of the id


def test_declared_count_mismatch_warns(tmp_path, capsys):
    text = SEED["004"].read_text(encoding="utf-8").replace("Commentaires (4)", "Commentaires (6)")
    path = tmp_path / "page.txt"
    path.write_text(text, encoding="utf-8")
    page = parse_page(path)
    assert page.declared_count == 6 and len(page.comments) == 4
    assert "declares 6 comments, 4 found" in capsys.readouterr().err


def test_replies_paragraphs_mixed_case_authors_and_ordinal_dates():
    comments = parse_path(FIXTURES / "dump_replies.txt")
    assert [(c.author, c.published) for c in comments] == [
        ("Jean-Marc Dupuis", "2016-03-01T08:05:00"),
        ("Claire V.", "2016-03-01T08:41:00"),
        ("Jean-Marc Dupuis", "2016-03-01T09:02:00"),
        ("CITOYEN EN COLÈRE", "2016-03-01T10:15:00"),
        ("marie_l", "2016-03-01T11:20:00"),
    ]
    first, reply, reply_to_reply, caps, last = comments
    assert first.text == (
        "Trois jours sans train pour aller travailler.\n\n"
        "Et personne pour rembourser les abonnements, évidemment.\n\n"
        "Encore une fois ce sont les usagers qui paient."
    )
    assert (first.reply_to, reply.reply_to, reply_to_reply.reply_to) == (None, first.id, reply.id)
    assert caps.reply_to is None and last.reply_to is None
    assert caps.text == "LA GRÈVE EST UN DROIT, ARRÊTEZ DE VOUS PLAINDRE."


def test_layout_without_bullets_author_on_the_timestamp_line_and_relative_time(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(
        "Titre\n\nLe 19 septembre 2015, un texte d'article.\n\nRéactions (3)\n\n"
        "Bravo\n\n19 h 55, le 19 septembre 2015\n\n"
        "Deuxième commentaire,\nsur deux lignes.\n\nJean Dupont - 19/09/2015 20:10\n\n"
        "En réponse à Jean Dupont\n\nTout à fait d'accord.\n\nZoé\n\nil y a 3 heures\n",
        encoding="utf-8",
    )
    page = parse_page(path)
    assert page.declared_count == 3 and page.status == "open"
    bravo, second, third = page.comments
    assert (bravo.author, bravo.published, bravo.text) == (None, "2015-09-19T19:55:00", "Bravo")
    assert (second.author, second.published) == ("Jean Dupont", "2015-09-19T20:10:00")
    assert second.text == "Deuxième commentaire, sur deux lignes."
    assert (third.author, third.published, third.text) == ("Zoé", None, "Tout à fait d'accord.")
    assert third.extra["published_raw"] == "il y a 3 heures"
    assert third.reply_to == second.id


def test_article_byline_and_date_are_not_a_comment(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(
        "Titre de l'article\n\nPar Jean Dupont\n\nPublié le 19/09/2015 à 10h00\n\nTexte de l'article.\n",
        encoding="utf-8",
    )
    page = parse_page(path)
    assert (page.status, page.comments) == ("absent", ())


def test_single_comment_page_without_preview(tmp_path):
    text = SEED["000"].read_text(encoding="utf-8")
    full_list = text[text.index("Commentaires (3)") :]
    first = full_list[: full_list.index("  • LES NOUVEAUX")]
    path = tmp_path / "one.txt"
    path.write_text("Un article.\n\n" + first.replace("Commentaires (3)", "Commentaire (1)"), encoding="utf-8")
    page = parse_page(path)
    assert page.declared_count == 1 and page.warnings == ()
    (comment,) = page.comments
    assert (comment.author, comment.published) == ("FAKHOURI", "2015-09-19T19:55:00")


MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
AUTHORS = ["FAKHOURI", "Jean-Marc Dupuis", "marie_l", "LA LIBRE EXPRESSION", "Claire V.", "Zoé 75", "O'Brien"]
SENTENCES = [
    "Je ne suis pas d'accord avec cette analyse.",
    "MERCI POUR CET ARTICLE !!!",
    "Et les impôts, on en parle ?",
    "Le 19 septembre 2015 était un samedi, pas un vendredi.",
    "Commentaire modéré par moi-même, je retire ce que j'ai dit hier.",
    "Bravo",
]


def _render(comments, preview):
    """A page in the seeds' layout: optional featured preview, then the bulleted list (replies indented)."""
    lines = ["Rechercher", "", "Un titre", "", "Le texte de l'article, publié le 2 mars 2016 à 8 h 00.", ""]
    if preview is not None:
        text, author, stamp, _ = comments[preview]
        lines += [f"commentaires ({len(comments)})", "", *sum(([p, ""] for p in text), []), author, "", stamp, ""]
        lines += ["Tous les commentaires", ""]
    lines += [f"Commentaires ({len(comments)})", ""]
    for text, author, stamp, depth in comments:
        pad = "    " * depth
        lines += [f"{pad}  • {text[0]}", ""] + sum(([f"{pad}    {p}", ""] for p in text[1:]), [])
        lines += [f"{pad}    {author}", "", f"{pad}    {stamp}", ""]
    return "\n".join(lines + ["Retour en haut"])


@pytest.mark.parametrize("seed", range(25))
def test_generated_pages_of_the_seed_family(tmp_path, seed):
    import random

    rng = random.Random(seed)
    comments, expected = [], []
    for i in range(rng.randint(1, 8)):
        day, month, hour, minute = rng.randint(1, 28), rng.randint(1, 12), rng.randint(0, 23), rng.randint(0, 59)
        day_text = "1er" if day == 1 else str(day)
        stamp = f"{hour} h {minute:02d}, le {day_text} {MONTHS[month - 1]} 2016"
        text = [rng.choice(SENTENCES) for _ in range(rng.choice([1, 1, 2, 3]))]
        depth = rng.randint(0, comments[-1][3] + 1) if comments and rng.random() < 0.4 else 0
        comments.append((text, rng.choice(AUTHORS), stamp, depth))
        expected.append((comments[-1][1], f"2016-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00", "\n\n".join(text)))
    preview = rng.randrange(len(comments)) if rng.random() < 0.5 else None
    path = tmp_path / "page.txt"
    path.write_text(_render(comments, preview), encoding="utf-8")
    page = parse_page(path)
    assert [(c.author, c.published, c.text) for c in page.comments] == expected
    assert page.warnings == () and page.declared_count == len(comments)
    ids = [c.id for c in page.comments]
    for i, (_, _, _, depth) in enumerate(comments):
        parent = next((j for j in range(i - 1, -1, -1) if comments[j][3] < depth), None) if depth else None
        assert page.comments[i].reply_to == (ids[parent] if parent is not None else None)
