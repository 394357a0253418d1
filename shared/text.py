"""What text may hold to be stored and shown: one definition, for the web edge that refuses it
and for the domain that cleans what it cannot refuse (a carrier's push)."""

from __future__ import annotations

import re

BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""C0 controls but tab, LF and CR; DEL; lone surrogates; the two non-characters."""

MOBILE = re.compile(r"(?<![0-9０-９])[1１][3-9３-９][0-9０-９]{9}(?![0-9０-９])")
"""A mainland mobile number standing alone in text, in ASCII or full-width digits (a Chinese
input method types the latter)."""
ID_NUMBER = re.compile(
    r"(?<![0-9０-９])[0-9０-９]{17}[0-9０-９XxＸｘ](?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"
)
"""A resident ID number standing alone in text, likewise."""
