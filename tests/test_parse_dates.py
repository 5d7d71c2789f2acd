"""French and English comment timestamps to ISO 8601 (offset only when the source gives one)."""

from __future__ import annotations

import pytest

from classifier.parse.dates import is_relative, parse_datetime


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("19 h 55, le 19 septembre 2015", "2015-09-19T19:55:00"),
        ("8 h 05, le 1er mars 2016", "2016-03-01T08:05:00"),
        ("le 19/09/2015 à 19h55", "2015-09-19T19:55:00"),
        ("19 septembre 2015 à 19:55", "2015-09-19T19:55:00"),
        ("Publié le samedi 19 sept. 2015 à 19 h 55", "2015-09-19T19:55:00"),
        ("le 14 août 2016 à 7h", "2016-08-14T07:00:00"),
        ("3 févr. 2020 23:59", "2020-02-03T23:59:00"),
        ("Sept. 19, 2015 7:55 pm", "2015-09-19T19:55:00"),
        ("September 19, 2015 at 12:05 AM", "2015-09-19T00:05:00"),
        ("Jan 3, 2016 12:30 p.m.", "2016-01-03T12:30:00"),
        ("2015-09-19T17:55:00Z", "2015-09-19T17:55:00+00:00"),
        ("2015-09-19T19:55:00+0200", "2015-09-19T19:55:00+02:00"),
        ("2015-09-19 19:55:00", "2015-09-19T19:55:00"),
        ("19/09/2015 19:55 UTC+2", "2015-09-19T19:55:00+02:00"),
        ("2015-09-19", "2015-09-19"),
        ("1442692500", "2015-09-19T19:55:00+00:00"),
    ],
)
def test_parse_datetime(text, iso):
    assert parse_datetime(text) == iso


@pytest.mark.parametrize("text", ["", "Retour en haut", "31/02/2015 10:00", "il y a 3 heures", "19 h 55"])
def test_unreadable_or_incomplete_timestamps_give_none(text):
    assert parse_datetime(text) is None


def test_relative_timestamps_are_recognised():
    assert is_relative("il y a 3 heures") and is_relative("2 days ago") and is_relative("hier à 19h55")
    assert not is_relative("19 h 55, le 19 septembre 2015")
    assert not is_relative("Hier j'étais à la manifestation.")
