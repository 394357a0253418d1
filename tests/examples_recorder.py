"""The response examples the OpenAPI documents show (web/examples/*.json) are answers the test
suite really received: the suite's requests use the sample departments and realistic wording,
and every answer is already checked against its schema (tests/conformance.py). With
`GAODEDIM_RECORD_EXAMPLES=1` (`make examples`), each operation's successful answers are kept
and, when the session ends, the most telling one per operation and status is written (merged
into what is there, so recording a few test files refreshes only their operations).

"Most telling": no answer a test of strange input provoked (control characters, formula text,
full-width digits), lists with something in them, as many fields filled as possible; lists cut
to two entries so the page stays readable."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "web" / "examples"
KEEP = 40
"""Candidates kept per operation and status: enough to choose from, little memory."""

RECORDING = bool(os.environ.get("GAODEDIM_RECORD_EXAMPLES"))
_candidates: dict[tuple[str, str, str], list[Any]] = {}

_ODD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\ufeff]")
_PLACEHOLDER = re.compile(r"^(string|test|x+|a+|additionalProp\d*)$", re.IGNORECASE)


def record(app: str, operation_id: str, status: str, body: Any) -> None:
    if not RECORDING:
        return
    kept = _candidates.setdefault((app, operation_id, status), [])
    if len(kept) < KEEP:
        kept.append(body)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def odd(value: Any) -> bool:
    """Whether an answer carries input only a robustness test would send."""
    for text in _strings(value):
        if _ODD.search(text) or _PLACEHOLDER.match(text) or len(text) > 2000:
            return True
        if text[:1] in ("=", "+", "@") or (text.startswith("-") and text[1:2].isalpha()):
            return True
        if any(ch.isdigit() and not ch.isascii() for ch in text):
            return True
        if any("\uff21" <= ch <= "\uff3a" or "\uff41" <= ch <= "\uff5a" for ch in text):
            return True  # full-width Latin letters (Chinese punctuation is full-width anyway)
    return False


def _filled(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_filled(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_filled(v) for v in value[:2]) if value else -2
    return 0 if value is None else 1


def trimmed(value: Any, keep: int = 2) -> Any:
    if isinstance(value, dict):
        return {key: trimmed(item, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [trimmed(item, keep) for item in value[:keep]]
    return value


def best(candidates: list[Any]) -> Any:
    fair = [c for c in candidates if not odd(c)] or candidates
    return trimmed(max(fair, key=_filled))


def write() -> list[Path]:
    """Merge what this session recorded into web/examples/<app>.json; the files written."""
    written = []
    for app in sorted({app for app, _, _ in _candidates}):
        path = EXAMPLES / f"{app}.json"
        stored: dict[str, dict[str, Any]] = (
            json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        )
        for (of, operation_id, status), candidates in sorted(_candidates.items()):
            if of == app:
                stored.setdefault(operation_id, {})[status] = best(candidates)
        ordered = {op: dict(sorted(stored[op].items())) for op in sorted(stored)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(ordered, ensure_ascii=False, indent=1) + "\n", "utf-8")
        written.append(path)
    return written
