"""Personal data masking. Who sees a case's applicant in clear is
`services.case.access.sees_in_clear` (need to know)."""

from __future__ import annotations


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
    """广州市越秀区东风中路437号 → 广州市越秀****: the start (city, district) stays, so a reader
    without need to know still sees roughly where; never more than a third, never the number."""
    if not address:
        return address
    return address[: min(6, len(address) // 3)] + "****"
