"""What text may hold to be stored and shown: one definition, for the web edge that refuses it
and for the domain that cleans what it cannot refuse (a carrier's push)."""

from __future__ import annotations

import re

BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""C0 controls but tab, LF and CR; DEL; lone surrogates; the two non-characters."""
