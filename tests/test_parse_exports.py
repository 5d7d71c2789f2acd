"""Disqus and WordPress (WXR) exports: replies, skipped posts, statuses, instants."""

from __future__ import annotations

from pathlib import Path

from classifier.parse import parse_page, parse_path

FIXTURES = Path(__file__).parent / "fixtures" / "parse"


def test_disqus_posts_with_reply_chain_and_deleted_and_spam_skipped():
    page = parse_page(FIXTURES / "disqus.xml")
    assert page.format == "disqus" and page.status == "open"
    anne, paul, velo = page.comments
    assert [(c.author, c.published) for c in page.comments] == [
        ("Anne-Sophie", "2022-11-02T07:31:12+00:00"),
        ("Paul R.", "2022-11-02T08:05:00+00:00"),
        ("Vélo Lover", "2022-11-02T10:12:45+00:00"),
    ]
    assert anne.text == "Très bonne nouvelle pour le quartier nord.\n\nDommage que les travaux durent encore deux ans."
    assert paul.text == "Deux ans, c'est optimiste ! Le chantier de la ligne A a duré quatre ans."
    assert (anne.reply_to, paul.reply_to, velo.reply_to) == (None, anne.id, paul.id)
    assert anne.page == "https://journal.example/2022/11/tramway"
    assert anne.extra["source_id"] == "900001" and anne.status == "approved"


def test_disqus_keep_deleted_keeps_them_with_their_status():
    comments = parse_path(FIXTURES / "disqus.xml", keep_deleted=True)
    assert [c.status for c in comments] == ["approved", "approved", "deleted", "spam", "approved"]
    assert comments[3].author == "Promo Facile"


def test_wxr_comments_replies_statuses_and_instants():
    page = parse_page(FIXTURES / "wxr.xml")
    assert page.format == "wxr" and page.status == "open"
    martine, benali, jojo = page.comments
    assert [(c.author, c.published, c.status) for c in page.comments] == [
        ("Martine Leroy", "2021-05-10T07:14:00+00:00", "approved"),  # comment_date_gmt: the instant
        ("Dr Benali", "2021-05-10T09:30:00+00:00", "approved"),
        ("Jojo", "2021-05-10T22:47:00", "unapproved"),  # no GMT date: local wall-clock time, no offset
    ]
    assert martine.text == (
        "J'ai accouché là-bas deux fois, l'équipe était formidable.\n\n"
        "Où iront les futures mamans ? Il faut une heure de route jusqu'à la ville."
    )
    assert benali.reply_to == martine.id and jojo.reply_to is None
    assert martine.page == "https://petitquotidien.example/2021/05/maternite/"
    assert all("pingback" not in c.text.lower() and "trackback" not in c.text.lower() for c in page.comments)


def test_wxr_keep_deleted_keeps_spam_but_never_pingbacks():
    comments = parse_path(FIXTURES / "wxr.xml", keep_deleted=True)
    assert [c.extra["source_id"] for c in comments] == ["51", "53", "55", "56"]
    assert comments[-1].status == "spam"


def test_exports_ids_are_stable_and_independent_of_source_ids():
    first = [c.id for c in parse_path(FIXTURES / "disqus.xml")]
    assert first == [c.id for c in parse_path(FIXTURES / "disqus.xml")]
    assert not set(first) & {"900001", "900002", "900005"}
