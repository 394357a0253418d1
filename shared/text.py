"""What text may hold to be stored and shown: one definition, for the web edge that refuses it
and for the domain that cleans what it cannot refuse (a carrier's push)."""

from __future__ import annotations

import re

BAD_TEXT = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff"
    r"\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
"""C0 controls but tab, LF and CR; DEL; lone surrogates; the two non-characters; and the
invisible format characters that make text read otherwise than it is (issue 26 #8): zero-width
spaces and joiners, the direction marks, embeddings, overrides and isolates (`U+202E` turns
`gpj.exe` into what looks like `exe.jpg`), and the byte-order mark."""
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_DIGIT = "[0-9０-９]"
_SEP = "[ \t.\\-－．·\u3000]?"
"""One separator people put inside a number: a space (full-width too), a dash, a dot."""
_COUNTRY = (
    "(?:(?:[+＋]|00|００)"
    + _SEP
    + "(?:86|８６)"
    + _SEP
    + "|[(（][+＋]?(?:86|８６)[)）]"
    + _SEP
    + ")?"
)
"""+86, 0086 or (+86) before a mobile number, with or without a separator."""

MOBILE_IN_TEXT = re.compile(
    "(?<![0-9０-９])"
    + _COUNTRY
    + "[1１]"
    + _SEP
    + "[3-9３-９]"
    + ("(?:" + _SEP + _DIGIT + ")")
    + "{9}"
    "(?![0-9０-９])"
)
"""A mainland mobile number standing alone in text, however it is written: ASCII or full-width
digits (a Chinese input method types the latter), grouped by spaces, dashes or dots
(`138 0013 8001`, `138-0013-8001`), after +86, 0086 or (+86) (issue 26)."""
ID_NUMBER_IN_TEXT = re.compile(
    "(?<![0-9０-９])" + _DIGIT + "(?:" + _SEP + _DIGIT + "){16}" + _SEP + "[0-9０-９XxＸｘ]"
    "(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"
)
"""A resident ID number standing alone in text, likewise (`440104 19900101 123X`)."""


TRACKING_IN_TEXT = re.compile(
    r"((?:跟踪码|/track/|tracking_code[\"']?[:=]\s*[\"']?)[:：\s]*)"
    r"([2-9A-HJ-NP-Za-hj-np-z]{8})(?![0-9A-Za-z])"
)
"""A tracking code where text names one: after 跟踪码 (a notice), in a look-up's path, or as a
`tracking_code` value. With four phone digits it opens the citizen's case, so a log line shows
only its first two characters (issue 26 #10)."""


def mask_code(code: str | None) -> str | None:
    """K7M2Q9XD → K7******: a tracking code (the citizen's credential) told apart, not usable;
    the same for a masked case answer and a log line."""
    if not code:
        return code
    return code[:2] + "*" * (len(code) - 2)


def digits_of(number: str) -> str:
    """The digits (and an ID number's check letter) of a number as written, separators and a
    country code's punctuation gone; full-width digits stay as typed."""
    return "".join(c for c in number if c.isdigit() or c in "XxＸｘ")
