"""Property tests that hunt for failures (issue 14): any bytes in -> records or one-line errors out.

Hypothesis runs with a fixed example budget per test (never a wall-clock one), derandomized so
that every run of the suite tries the same inputs; a failure prints the smallest input found.
The readers, text hygiene and dates get properties and round trips; every parser also gets a
bounded mutation fuzz run (:func:`test_fuzz_every_parser_on_mutated_real_inputs`): real inputs
(the seeds, the parser fixtures) with bytes deleted, inserted, replaced or cut.
"""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.errors import InputError
from classifier.output import neutralise, visible, write_csv, write_jsonl
from classifier.parse import PARSERS, SUFFIXES, parse_source
from classifier.parse.dates import find_datetime, parse_datetime
from classifier.parse.reading import Source
from classifier.parse.tabular import TABLE_READERS, csv_table, json_table, sniff_delimiter
from classifier.text import clean_text, fix_mojibake, shouting_scores
from tests.conftest import SEEDS

FIXTURES = Path(__file__).parent / "fixtures" / "parse"

#: A fixed budget of examples per property; the fuzz run below has its own.
BUDGET = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
FUZZ_BUDGET = settings(BUDGET, max_examples=250)

#: Text that a CSV cell carries through our writer and reader unchanged (no NUL: binary; no CR: see write_csv).
CELL = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"), max_size=40)
NAMES = ("page.txt", "page.html", "export.xml", "table.csv", "table.tsv", "rows.jsonl", "rows.json", "t.parquet", "-")


def utf8_safe(value) -> bool:
    """True when every string inside ``value`` can be written as UTF-8 (no lone surrogate reaches an output)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return True


def one_line(exc: InputError) -> bool:
    message = str(exc)
    return bool(message) and "\n" not in message and "\r" not in message


def consume(fmt: str, name: str, data: bytes) -> list[dict]:
    """Every record a table reader gives for ``data``; bad rows must be reported as one line each."""
    reported: list[str] = []
    table = TABLE_READERS[fmt](Source.from_bytes(name, data), reported.append, reported.append)
    rows = [row.record for row in table.rows]
    assert all("\n" not in m for m in reported)
    return rows


# --------------------------------------------------------------------------- readers


@BUDGET
@given(data=st.binary(max_size=600), fmt=st.sampled_from(sorted(TABLE_READERS)), name=st.sampled_from(NAMES))
def test_table_readers_turn_any_bytes_into_records_or_one_line_errors(data, fmt, name):
    try:
        rows = consume(fmt, name, data)
    except InputError as exc:
        assert one_line(exc)
        return
    assert all(isinstance(r, dict) for r in rows) and utf8_safe(rows)


@BUDGET
@given(
    rows=st.lists(st.fixed_dictionaries({"text": CELL, "author": CELL, "note": CELL}), min_size=1, max_size=8),
    raw=st.booleans(),
)
def test_csv_written_by_our_writer_reads_back_the_same(rows, raw):
    out = io.StringIO()
    write_csv(rows, out, raw=raw)
    table = csv_table(Source.from_bytes("t.csv", out.getvalue().encode("utf-8")), print, print)
    assert table.columns == list(rows[0])
    expected = rows if raw else [{k: neutralise(v) for k, v in r.items()} for r in rows]
    assert [row.record for row in table.rows] == expected


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@BUDGET
@given(rows=st.lists(st.fixed_dictionaries({"text": CELL.filter(str.strip), "meta": JSON_VALUE}), min_size=1, max_size=6))
def test_jsonl_written_by_our_writer_reads_back_the_same(rows):
    out = io.StringIO()
    write_jsonl(rows, out)
    table = json_table(Source.from_bytes("r.jsonl", out.getvalue().encode("utf-8")), print, print)
    assert [row.record for row in table.rows] == rows


@BUDGET
@given(values=st.lists(CELL, min_size=1, max_size=5), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_the_delimiter_of_a_header_of_plain_names_is_found(values, delimiter):
    names = [f"col{i}" for i in range(len(values) + 1)]
    assert sniff_delimiter(delimiter.join(names) + "\n") == delimiter


@BUDGET
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=60))
def test_a_guarded_csv_cell_never_starts_a_formula_and_keeps_the_text(text):
    guarded = neutralise(text)
    assert guarded in (text, "'" + text)
    assert guarded[:1] not in ("\t", "\r") and not guarded.lstrip().startswith(("=", "+", "-", "@"))


@BUDGET
@given(text=st.text(max_size=60))
def test_visible_text_holds_no_control_or_bidi_character(text):
    shown = visible(text)
    assert not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in shown)
    assert not any(unicodedata.bidirectional(ch) in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
                   for ch in shown)  # fmt: skip


# --------------------------------------------------------------------------- text hygiene


@BUDGET
@given(text=st.text(max_size=80))
def test_clean_text_gives_printable_nfc_utf8_and_is_idempotent(text):
    cleaned = clean_text(text)
    assert utf8_safe(cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert "\r" not in cleaned and "\n\n\n" not in cleaned and cleaned == cleaned.strip(" ")
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in cleaned)
    assert clean_text(cleaned) == cleaned


def test_double_encoded_oe_ligature_is_repaired():
    assert [fix_mojibake(t) for t in ("cÅ“ur", "une Å“uvre", "Ã©tÃ©")] == ["cœur", "une œuvre", "été"]


@BUDGET
@given(texts=st.lists(st.text(max_size=50), max_size=6))
def test_shouting_of_a_batch_is_the_shouting_of_each_text(texts):
    batch = shouting_scores(texts)
    assert batch == [shouting_scores([t])[0] for t in texts]
    assert all(0.0 <= ratio <= 1.0 for _, ratio in batch)


# --------------------------------------------------------------------------- dates


def is_iso(value: str) -> bool:
    try:
        (datetime if "T" in value else date).fromisoformat(value)
        return True
    except ValueError:
        return False


@BUDGET
@given(value=st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none()))
def test_parse_datetime_gives_iso_8601_or_none_for_anything(value):
    parsed = parse_datetime(value)
    assert parsed is None or is_iso(parsed)


@BUDGET
@given(text=st.text(max_size=60))
def test_found_dates_are_iso_and_their_spans_lie_in_the_text(text):
    found = find_datetime(text)
    if found is not None:
        assert is_iso(found.iso)
        assert all(0 <= a < b <= len(text) for a, b in found.spans)


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")  # fmt: skip


@BUDGET
@given(stamp=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)))
def test_dates_round_trip_through_iso_french_and_epoch_forms(stamp):
    stamp = stamp.replace(second=0, microsecond=0)
    assert parse_datetime(stamp.isoformat()) == stamp.isoformat()
    french = f"{stamp.hour} h {stamp.minute:02d}, le {stamp.day} {MONTHS_FR[stamp.month - 1]} {stamp.year}"
    assert parse_datetime(french) == stamp.isoformat()
    utc = stamp.replace(tzinfo=timezone.utc)
    assert parse_datetime(int(utc.timestamp())) == utc.isoformat()


# --------------------------------------------------------------------------- every parser


def check_page(fmt: str, name: str, data: bytes) -> None:
    """Records or one one-line InputError; records have text, stable ids and links inside the page."""
    warnings: list[str] = []
    try:
        page = parse_source(Source.from_bytes(name, data), fmt, warnings.append)
    except InputError as exc:
        assert one_line(exc), str(exc)
        return
    ids = {c.id for c in page.comments}
    assert len(ids) == len(page.comments)
    for comment in page.comments:
        assert comment.text.strip() or fmt in ("disqus", "wxr")
        assert len(comment.id) == 16 and comment.reply_to in ids | {None}
    assert utf8_safe(page.to_dict()) and all("\n" not in w for w in warnings)


@BUDGET
@given(data=st.binary(max_size=400), fmt=st.sampled_from(sorted(PARSERS)), name=st.sampled_from(NAMES))
def test_every_parser_turns_any_bytes_into_records_or_one_line_errors(data, fmt, name):
    check_page(fmt, name, data)


CORPUS = sorted(p for p in [*SEEDS.iterdir(), *FIXTURES.rglob("*")] if p.is_file() and p.stat().st_size < 20_000)


@st.composite
def mutated(draw):
    """A real input with a few random edits: bytes deleted, inserted, replaced, duplicated or the end cut."""
    path = draw(st.sampled_from(CORPUS))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "cut"]))
        if edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16) | st.sampled_from(
                [b"<", b'"', b"\\ud800", b"{", b"]", b",", b";", b"\n", b"\r", b"\xe8", b"\xff\xfe", b"&#0;", b"\\u0000"]))
        elif edit == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        else:
            del data[at:]
    return path, bytes(data)


@FUZZ_BUDGET
@given(case=mutated(), forced=st.booleans())
def test_fuzz_every_parser_on_mutated_real_inputs(case, forced):
    path, data = case
    fmt = SUFFIXES.get(path.suffix, "dump") if not forced else None
    for candidate in [fmt] if fmt else sorted(PARSERS):
        check_page(candidate, path.name, data)
