"""schema.org comments in HTML: JSON-LD and microdata, replies and paragraphs."""

from __future__ import annotations

from pathlib import Path

from classifier.parse import parse_page, parse_path

FIXTURES = Path(__file__).parent / "fixtures" / "parse"


def test_jsonld_comments_nested_and_parentitem_replies():
    page = parse_page(FIXTURES / "jsonld.html")
    assert page.format == "html" and page.status == "open"
    first, nested, third, by_reference = page.comments
    assert [(c.author, c.published) for c in page.comments] == [
        ("Élodie Marchand", "2024-03-12T08:15:00+01:00"),
        ("jm_durand", "2024-03-12T09:02:30+01:00"),
        ("Karim B.", "2024-03-12T10:40:00+00:00"),
        ("Sophie L.", "2024-03-12T11:05:00+01:00"),
    ]
    assert first.text == "Enfin un budget qui pense aux écoles.\n\nReste à voir si les travaux suivront cette fois."
    assert nested.reply_to == first.id
    assert by_reference.reply_to == third.id
    assert first.reply_to is None and third.reply_to is None
    assert first.page == "https://journal.example/2024/03/budget"  # the canonical URL the page names
    assert first.extra["source_id"].endswith("#c101")


def test_microdata_comments_nested_and_parentitem_replies():
    comments = parse_path(FIXTURES / "microdata.html")
    margaret, dave, lin, rosa = comments
    assert [(c.author, c.published) for c in comments] == [
        ("Margaret O'Neil", "2023-06-05T18:20:00-04:00"),
        ("Dave K", "2023-06-05T19:02:00-04:00"),
        ("Lin & Co", "2023-06-06"),
        ("Rosa", "2023-06-07T08:00:00"),
    ]
    assert margaret.text == "Finally! Two years of detours.\n\nNow fix the potholes on Elm Street, please."
    assert dave.text == "Elm Street is on the county's list for August."  # not part of Margaret's text
    assert "Elm Street is on" not in margaret.text
    assert (dave.reply_to, rosa.reply_to, lin.reply_to) == (margaret.id, margaret.id, None)


def test_a_comment_marked_up_both_ways_counts_once(tmp_path):
    html = (FIXTURES / "microdata.html").read_text(encoding="utf-8")
    jsonld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Comment", '
        '"author": {"@type": "Person", "name": "Rosa"}, "dateCreated": "2023-06-07T08:00", '
        '"text": "Agreed with Margaret."}</script>'
    )
    path = tmp_path / "both.html"
    path.write_text(html.replace("</head>", jsonld + "</head>"), encoding="utf-8")
    comments = parse_path(path)
    assert [c.author for c in comments].count("Rosa") == 1
    assert len(comments) == 4
    dave = next(c for c in comments if c.author == "Dave K")
    assert dave.reply_to == next(c.id for c in comments if c.author == "Margaret O'Neil")


def test_page_without_schema_org_comments_gets_a_status(tmp_path):
    path = tmp_path / "closed.html"
    path.write_text(
        "<!DOCTYPE html><html><body><article><p>Un article.</p></article>"
        "<p>Les commentaires sont fermés pour cet article.</p></body></html>",
        encoding="utf-8",
    )
    page = parse_page(path)
    assert (page.format, page.status, page.comments) == ("html", "closed", ())


def test_invalid_jsonld_block_is_reported_and_the_rest_parsed(tmp_path, capsys):
    html = (FIXTURES / "jsonld.html").read_text(encoding="utf-8")
    path = tmp_path / "bad-block.html"
    path.write_text(html.replace("</head>", '<script type="application/ld+json">{"@type": </script></head>'), encoding="utf-8")
    assert len(parse_path(path)) == 4
    assert "not valid JSON" in capsys.readouterr().err
