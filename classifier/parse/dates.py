"""Comment timestamps in French and English, to ISO 8601.

A month table and a few regexes cover what comment pages print
("19 h 55, le 19 septembre 2015", "le 19/09/2015 à 19h55",
"Sept. 19, 2015 7:55 pm", "2015-09-19T17:55:00Z"). A UTC offset is kept only
when the source gives one; a bare wall-clock time stays without offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from classifier.text import fold_same_length

_MONTHS = {
    # French
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
    # English (abbreviations shared with French are above)
    "january": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "october": 10, "november": 11, "december": 12,
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>\d{4})"
_DAY = r"(?P<day>\d{1,2})(?:er|st|nd|rd|th|e)?"

# Matched on a folded copy of the text (lower case, accents removed), same length as the original.
_ISO = re.compile(
    r"(?<!\d)(?P<date>\d{4}-\d{2}-\d{2})(?:[t ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)"
    r"\s*(?P<tz>z|utc|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_DATE_PATTERNS = (
    re.compile(rf"(?<![\w]){_DAY}\s+{_MONTH}\s+{_YEAR}(?!\d)"),  # 19 septembre 2015
    re.compile(rf"(?<![\w]){_MONTH}\s+{_DAY},?\s+{_YEAR}(?!\d)"),  # Sept. 19, 2015
    # 19/09/2015, 19.09.15
    re.compile(r"(?<![\d/.-])(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4}|\d{2})(?![\d/.-])"),
    re.compile(r"(?<!\d)(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})(?!\d)"),  # 2015/09/19
)
_TIME = re.compile(
    r"(?<![\w:])(?P<hour>\d{1,2})\s*(?:(?P<h>h)\s*(?P<minute_h>\d{2})?|:(?P<minute>\d{2})(?::(?P<second>\d{2}))?)"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\b\.?)?(?:\s*(?P<tz>utc|gmt|z(?!\w))\s*(?P<offset>[+-]\d{1,2}(?::?\d{2})?)?)?(?![\w:])"
    r"|(?<![\w:])(?P<hour12>\d{1,2})\s*(?P<ampm12>[ap])\.?\s?m\b\.?"
)
_RELATIVE = re.compile(
    r"(?:(?:publie|poste|posted)\s+)?(?:"
    r"il y a\s+(?:\d+|un|une|quelques)\s+(?:secondes?|minutes?|min|heures?|h|jours?|semaines?|mois|ans?|annees?)"
    r"|(?:\d+|an?|a few)\s+(?:seconds?|minutes?|mins?|hours?|days?|weeks?|months?|years?)\s+ago"
    r"|(?:hier|aujourd'hui|avant-hier|yesterday|today|a l'instant|just now)"
    r"(?:\s*(?:a|at|,)?\s*\d{1,2}\s*(?:h|:)\s*\d{0,2}(?:\s*[ap]\.?m\.?)?)?"
    r")\.?"
)


@dataclass(frozen=True)
class Found:
    """A timestamp found in a string: its ISO form and the spans it covers."""

    iso: str
    spans: tuple[tuple[int, int], ...]


def _offset(value: str | None) -> timezone | None:
    if not value:
        return None
    if value in ("z", "utc", "gmt"):
        return timezone.utc
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _year(value: str) -> int:
    year = int(value)
    return year + 2000 if year < 100 else year


def _find_iso(folded: str) -> Found | None:
    match = _ISO.search(folded)
    if not match:
        return None
    if not match["time"]:
        try:
            return Found(datetime.strptime(match["date"], "%Y-%m-%d").date().isoformat(), (match.span(),))
        except ValueError:
            return None
    text = f"{match['date']}T{match['time'].replace(',', '.')}"
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    tz = match["tz"]
    if tz:
        stamp = stamp.replace(tzinfo=_offset(tz))
    return Found(stamp.isoformat(), (match.span(),))


def _find_date(folded: str) -> tuple[tuple[int, int, int], tuple[int, int]] | None:
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(folded):
            month = match["month"]
            month_num = int(month) if month.isdigit() else _MONTHS[month]
            day = int(match["day"])
            if month.isdigit() and month_num > 12 and day <= 12:  # 09/19/2015: month first
                day, month_num = month_num, day
            try:
                value = datetime(_year(match["year"]), month_num, day)
            except ValueError:
                continue
            return (value.year, value.month, value.day), match.span()
    return None


def _find_time(
    folded: str, skip: tuple[int, int]
) -> tuple[tuple[int, int, int], timezone | None, tuple[int, int]] | None:
    for match in _TIME.finditer(folded):
        if match.start() < skip[1] and match.end() > skip[0]:
            continue
        if match["hour12"]:
            hour, minute, second, ampm = int(match["hour12"]), 0, 0, match["ampm12"]
        else:
            if match["h"] is None and match["minute"] is None:
                continue
            hour = int(match["hour"])
            minute = int(match["minute_h"] or match["minute"] or 0)
            second = int(match["second"] or 0)
            ampm = match["ampm"]
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm == "p" else 0)
        if hour > 23 or minute > 59 or second > 59:
            continue
        tz = _offset(match["offset"]) if match["offset"] else _offset(match["tz"])
        return (hour, minute, second), tz, match.span()
    return None


def find_datetime(text: str) -> Found | None:
    """The first date (with its time, if any) in ``text``, or None."""
    folded = fold_same_length(text)
    iso = _find_iso(folded)
    if iso:
        return iso
    date = _find_date(folded)
    if not date:
        return None
    (year, month, day), span = date
    time = _find_time(folded, span)
    if not time:
        return Found(datetime(year, month, day).date().isoformat(), (span,))
    (hour, minute, second), tz, time_span = time
    stamp = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    return Found(stamp.isoformat(), (span, time_span))


def parse_datetime(value: object) -> str | None:
    """ISO 8601 for a timestamp string or a Unix epoch (seconds or milliseconds, UTC); None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
        except (ValueError, OverflowError, OSError):  # NaN, or beyond the years datetime holds
            return None
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        return parse_datetime(float(text))
    if len(text) > 10 and text[:4].isdigit():  # the common case, ISO 8601 from an export
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            pass
    found = find_datetime(text)
    return found.iso if found else None


def is_relative(text: str) -> bool:
    """True for relative timestamps ("il y a 3 heures", "2 days ago") that have no absolute date."""
    return bool(_RELATIVE.fullmatch(fold_same_length(" ".join(text.split()))))
