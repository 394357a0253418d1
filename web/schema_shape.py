"""The OpenAPI documents' schemas as a reader and a client generator take them best: pydantic
writes an optional field as `anyOf: [{type: string}, {type: null}]`, which Swagger UI and ReDoc
show as two alternatives ("any of string, null") and some generators turn into a union class.
OpenAPI 3.1 (JSON Schema 2020-12) says the same in one type, `type: [string, "null"]`: one
optional string. A reference stays `anyOf` (a `$ref` takes no `type` beside it)."""

from __future__ import annotations

from typing import Any

NULL = {"type": "null"}


def one_type(node: Any) -> Any:
    """`node` with every `anyOf` of one plain type and null folded into one nullable type."""
    if isinstance(node, list):
        return [one_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    alternatives = node.get("anyOf")
    if isinstance(alternatives, list) and len(alternatives) == 2 and NULL in alternatives:
        (other,) = (a for a in alternatives if a != NULL)
        if isinstance(other, dict) and isinstance(other.get("type"), str) and "$ref" not in other:
            folded = {**other, **{k: v for k, v in node.items() if k != "anyOf"}}
            folded["type"] = [other["type"], "null"]
            if "enum" in other:
                folded["enum"] = [*other["enum"], None]
            if "const" in other:
                folded["enum"] = [folded.pop("const"), None]
            node = folded
    return {key: one_type(value) for key, value in node.items()}
