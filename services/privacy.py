"""Personal data masking. Which roles see full values is policy, kept here and only here."""

from __future__ import annotations

from shared.enums import Role

FULL_PII_ROLES = frozenset({Role.window, Role.department, Role.coordinator, Role.system})
"""`system` is the service's own processes (routing answering intake's hand-over, which intake
then shows to its caller, masked as that caller's role requires)."""
"""Those who call the citizen back or serve them face to face. Everyone else sees masked data."""


def sees_full_pii(role: Role) -> bool:
    return role in FULL_PII_ROLES


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
