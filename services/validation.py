"""Checks on citizens' identifiers, shared by every channel that brings them in."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_phone(raw: str) -> str:
    """Strip spaces, dashes around a mobile number and a +86/0086 prefix; keep landline dashes.
    Full-width forms (１３８…, ＋８６, －) become their ASCII selves first (NFKC), as a phone typed
    on a Chinese keyboard often is; any other script's digits stay and so fail the ASCII check."""
    value = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    if MOBILE.match(value.replace("-", "")):
        return value.replace("-", "")
    return value


def is_valid_phone(value: str) -> bool:
    """A citizen is called back on a mobile or a landline; service numbers (12345, 95xxx) are
    never an applicant's own."""
    return bool(MOBILE.match(value) or LANDLINE.match(value))


def id_number_problem(value: str) -> str | None:
    """Why an 18-character resident ID number (GB 11643-1999) is invalid, or None if it is valid."""
    if len(value) != 18:
        return "must be 18 characters"
    body, check = value[:17], value[17].upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", body + check):
        return "must be 17 digits followed by a digit or X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth date is not a real date"
    if born.year < 1900 or born > date.today():  # noqa: DTZ011 - a calendar date, no time zone
        return "birth date is out of range"
    expected = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    if check != expected:
        return "check digit does not match (GB 11643)"
    return None
