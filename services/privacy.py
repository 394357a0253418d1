"""Personal data masking. Who sees a case's applicant in clear is
`services.case.access.sees_in_clear` (need to know)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.models import Case
from shared.text import ID_NUMBER_IN_TEXT, MOBILE_IN_TEXT, digits_of

APPLICANT = (Case.applicant_name, Case.applicant_phone, Case.applicant_id_number)
"""The columns whose values `redact` and `erase` take out of free text: read them with the
words wherever the words are shown or stored."""


def applicant_of(row: Any) -> dict[str, str | None]:
    """The applicant as `redact` and `erase` take them (`**applicant_of(row)`), from a case or a
    row of `APPLICANT`; nobody, for no row (a card without a case)."""
    if row is None:
        return {"name": None, "phone": None, "id_number": None}
    return {
        "name": row.applicant_name,
        "phone": row.applicant_phone,
        "id_number": row.applicant_id_number,
    }


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace("-", "")
    if len(digits) <= 7:
        return "*" * (len(digits) - 2) + digits[-2:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 黄丽华 → 黄*华, Alice Smith → A*********h."""
    if not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_address(address: str | None) -> str | None:
    """广州市越秀区东风中路437号3栋1201房 → 广州市越秀区****: the start (city, district) stays,
    so a reader without need to know still sees roughly where; never more than a third of it
    (at most six characters), never the street number."""
    if not address:
        return address
    return address[: min(6, len(address) // 3)] + "****"


def redact(
    text: str | None, *, name: str | None, phone: str | None, id_number: str | None
) -> str | None:
    """Free text as a reader without need to know sees it: the applicant's own name, phone and
    ID number where staff or the applicant typed them ("黄丽华来电13800138001"), and anything
    else shaped like a mobile or ID number, masked as the fields are."""
    if not text:
        return text
    for value, masked in (
        (id_number, mask_id_number(id_number)),
        (phone, mask_phone(phone)),
        (name, mask_name(name)),
    ):
        if value and masked and len(value) >= 2:
            text = text.replace(value, masked)
    text = ID_NUMBER_IN_TEXT.sub(lambda m: mask_id_number(digits_of(m.group())) or "", text)
    # The last eleven digits: a +86 or 0086 in front is not part of the number.
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone(digits_of(m.group())[-11:]) or "", text)


def found_in(
    text: str, *, name: str | None, phone: str | None, id_number: str | None
) -> dict[str, bool]:
    """Which of the applicant's fields `text` holds in clear (for the audit row of an answer
    that shows people's words unredacted): their own values, or anything shaped like a phone
    or an ID number."""
    return {
        "name": bool(name and len(name) >= 2 and name in text),
        "phone": bool((phone and phone in text) or MOBILE_IN_TEXT.search(text)),
        "id_number": bool((id_number and id_number in text) or ID_NUMBER_IN_TEXT.search(text)),
    }


ERASED = "***"


def erase(
    text: str | None, *, name: str | None, phone: str | None, id_number: str | None
) -> str | None:
    """Free text with the applicant gone for good (retention; the keywords stats are computed
    from): their name becomes 申请人 (the applicant), their numbers and anything shaped like a
    mobile or ID number ***."""
    if not text:
        return text
    for value in (id_number, phone):
        if value:
            text = text.replace(value, ERASED)
    if name and len(name) >= 2:
        text = text.replace(name, "申请人")
    return MOBILE_IN_TEXT.sub(ERASED, ID_NUMBER_IN_TEXT.sub(ERASED, text))


def each_text(value: Any, change: Callable[[str], str | None]) -> Any:
    """`value` (JSON: strings, lists, objects) with every string in it through `change`."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: each_text(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [each_text(v, change) for v in value]
    return value
