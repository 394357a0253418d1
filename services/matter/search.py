"""Finding a matter by the words a window clerk or a caller uses.

A matter's words and a query are normalised the same way: NFKC (a Chinese keyboard's full-width
`ＩＤ`, `１２３` are `id`, `123`), traditional characters to simplified (OpenCC's t2s: `營業執照`
is `营业执照`), lower case, no spaces. The query is then cut into words (jieba's search mode,
which also yields the shorter words inside a long one: `营业执照注销` gives 营业, 执照, 营业执照,
注销), so `注销营业执照` finds 个体工商户营业执照注销登记 whatever the word order. A matter holds a
query when its text holds every word; when none does, those holding the most words come first.
Matches in the name rank above matches in the materials and answers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

from services import keywords

_SPACE = re.compile(r"[\s\u3000,，.。;；:：、!！?？()（）\[\]【】<>《》\"'“”‘’/\\|-]+")
MAX_TERMS = 8
"""A query is a few words; more are noise (and each is a substring test per matter)."""


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalised(text: str) -> str:
    """What the catalogue stores for searching and what a query is compared in."""
    folded = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", _t2s().convert(folded).lower())


def terms(query: str) -> list[str]:
    """The words a query asks for, longest first, each once."""
    folded = unicodedata.normalize("NFKC", query)
    chunks = [normalised(c) for c in _SPACE.split(_t2s().convert(folded)) if c.strip()]
    found: list[str] = []
    for chunk in chunks:
        if not chunk:
            continue
        words = keywords.for_search(chunk)
        longer = [w for w in words if len(w) > 1]
        found += longer or words or [chunk]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=len, reverse=True)[:MAX_TERMS]


def like(term: str) -> str:
    """A LIKE pattern that holds `term` as typed (its % and _ are not wildcards)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def grams(text: str) -> list[str]:
    """The characters and adjacent pairs of normalised text (`|` separates its parts)."""
    found: set[str] = set()
    for part in text.split("|"):
        found.update(part)
        found.update(part[i : i + 2] for i in range(len(part) - 1))
    return sorted(found)


def needed(words: list[str]) -> list[str]:
    """The pairs (a one-character word: itself) every matter holding all `words` holds."""
    return sorted({g for w in words for g in (grams(w) if len(w) == 1 else _pairs(w))})


def _pairs(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)]
