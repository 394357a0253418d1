"""Refuse text that PostgreSQL, a spreadsheet or an XML reader cannot take, before any route
parses it: NUL and the other control characters (tab and line breaks are text), lone
surrogates and the non-characters U+FFFE/U+FFFF, JSON numbers outside 64 bits or not numbers
at all (NaN, Infinity), and JSON nested deeper than any body of ours. It looks at the path,
every query parameter and a JSON or form body, and answers 422 problem+json naming the field.

Why one guard at the edge rather than a check in every schema: a single string that slips
through any of 60 operations becomes a 500 from the database (NUL) or a broken feed (control
characters), and a new field would have to remember the check. Here it cannot be forgotten.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Message, Receive, Scope, Send

from shared.text import BAD_TEXT, INVISIBLE
from web.middleware import HttpMiddleware
from web.problems import problem_response

INT64 = 2**63 - 1
MAX_DEPTH = 32
"""Our deepest body is a rule table (table → rules → rule → when → list): far below this."""


class Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class Malformed(Refused):
    """Not JSON at all: 400, the documented malformed-JSON problem."""


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or shown as text, or None when it can."""
    found = BAD_TEXT.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character (U+0000)"
    if INVISIBLE.match(char):
        return f"contains an invisible format character (U+{ord(char):04X})"
    return f"contains a control or non-character (U+{ord(char):04X})"


def _check_text(field: str, value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise Refused(field, problem)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _check_json(document: Any) -> None:
    """Walk the parsed body without recursion (a hostile body decides the depth)."""
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refused(path or "body", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            _check_text(path or "body", value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -INT64 - 1 <= value <= INT64:
                raise Refused(path or "body", "number out of range (64-bit integer)")
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(_join(path, "(key)"), key)
                stack.append((_join(path, key), item, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((_join(path, index), item, depth + 1))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_json_body(body: bytes) -> None:
    """Refused for bad text; a body that is not JSON at all is left to the route (400)."""
    try:
        document = json.loads(body, parse_constant=_no_constants)
    except RecursionError as exc:
        raise Refused("body", f"nested deeper than {MAX_DEPTH} levels") from exc
    except UnicodeDecodeError as exc:
        # JSON is UTF-8 (RFC 8259): answered as the malformed JSON it is, not as the
        # framework's bare 400 (issue 26 #12).
        raise Malformed("body", "the body is not UTF-8") from exc
    except ValueError as exc:
        if "is not a JSON number" in str(exc):
            raise Refused("body", "NaN and Infinity are not JSON numbers") from exc
        return  # malformed: the route's parser answers 400 with its own words
    _check_json(document)


def check_pairs(pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        _check_text(name, name)
        _check_text(name, value)


def _query_pairs(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)


class InputGuardMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            _check_text("path", scope.get("path", ""))
            check_pairs(_query_pairs(scope.get("query_string", b"")))
        except Refused as refused:
            await _refuse(refused, scope, receive, send)
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
        is_json = b"json" in content_type
        is_form = b"application/x-www-form-urlencoded" in content_type
        if not (is_json or is_form):
            await self.app(scope, receive, send)
            return
        # The body is bounded by BodyLimitMiddleware, which runs before this one.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            if is_json:
                check_json_body(body)
            else:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise Refused("body", "form data is not UTF-8") from exc
                check_pairs(parse_qsl(text, keep_blank_values=True))
        except Refused as refused:
            await _refuse(refused, scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(refused: Refused, scope: Scope, receive: Receive, send: Send) -> None:
    if isinstance(refused, Malformed):
        malformed = problem_response(
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            type_="/problems/malformed-json",
            errors=[{"field": refused.field, "message": refused.message}],
        )
        await malformed(scope, receive, send)
        return
    response = problem_response(
        422,
        "Validation failed",
        f"{refused.field}: {refused.message}",
        type_="/problems/validation",
        errors=[{"field": refused.field, "message": refused.message}],
    )
    await response(scope, receive, send)
