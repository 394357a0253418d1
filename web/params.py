"""Path and query parameter types the routes share, bounded so that no value a stranger can type
reaches the database or date arithmetic out of range (a 422 naming it, never a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
"""YYYY-MM between 1900 and 2999, ASCII digits only (`\\d` would take any script's digits)."""

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (Shanghai)")]
OptionalMonth = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
RowId = Annotated[int, Path(ge=1, le=INT64_MAX)]
"""A database id in a path (cards, extensions, outbox messages): bigint at most."""
Cursor = Annotated[
    str | None, Query(max_length=200, description="the next_cursor of the page before")
]
"""Every list's cursor: opaque, as `shared.pagination` writes it."""
