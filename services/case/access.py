"""Who may see and do what with a case: the role sets and checks the case services apply.
(A route may also turn away a role its whole path is closed to, with `shared.web.auth.require`.)"""

from __future__ import annotations

from shared.enums import Channel, Role
from shared.errors import forbidden, invalid
from shared.models import Case
from shared.principal import Principal

REGISTER = frozenset({Role.portal, Role.hotline, Role.window, Role.coordinator, Role.admin})
WINDOW_ACTIONS = frozenset({Role.window, Role.coordinator, Role.admin})
FEEDBACK = frozenset({Role.portal, Role.hotline, Role.window, Role.coordinator, Role.admin})
READ_ALL = frozenset({Role.window, Role.coordinator, Role.supervisor, Role.admin, Role.system})
READ_OWN_REGISTRATIONS = frozenset({Role.portal, Role.hotline})
"""A channel sees the cases it brought in, to tell its citizens how they stand."""


CHANNEL_OF_ROLE = {
    Role.portal: Channel.portal,
    Role.hotline: Channel.hotline,
    Role.window: Channel.window,
}
"""A channel's key registers that channel's cases only; the coordinator (and admin) may enter a
case from any channel, as when a complaint arrives by letter."""
NAMES_INTAKE_DEPARTMENT = frozenset({Role.window, Role.coordinator, Role.admin})
"""Who may name the intake department, which becomes first-responsible (首问负责) and reads the
case in full: a portal or the hotline cannot put a department on the hook."""


def require_channel(principal: Principal, channel: Channel, intake_department: str | None) -> None:
    expected = CHANNEL_OF_ROLE.get(principal.role)
    if expected is not None and channel is not expected:
        raise invalid(
            "channel", f"a {principal.role.value} key registers '{expected.value}' cases only"
        )
    if intake_department is not None and principal.role not in NAMES_INTAKE_DEPARTMENT:
        raise invalid(
            "intake_department",
            f"a {principal.role.value} key cannot name the first-responsible department",
        )


def require_role(principal: Principal, allowed: frozenset[Role], what: str) -> None:
    if principal.role not in allowed:
        raise forbidden(f"role '{principal.role.value}' may not {what}")


def can_read(principal: Principal, case: Case) -> bool:
    if principal.role in READ_ALL:
        return True
    if principal.role in READ_OWN_REGISTRATIONS:
        return case.created_by_key_id is not None and case.created_by_key_id == principal.key_id
    if principal.role is Role.department and principal.department:
        dept = principal.department
        return dept in {
            case.lead_department,
            case.first_responsible_department,
            case.intake_department,
            *(case.co_departments or []),
        }
    return False


def require_read(principal: Principal, case: Case) -> None:
    if not can_read(principal, case):
        raise forbidden(f"case {case.case_no} is not visible to this key")


def require_list(principal: Principal) -> None:
    if not (
        principal.role in READ_ALL
        or principal.role in READ_OWN_REGISTRATIONS
        or principal.role is Role.department
    ):
        raise forbidden(f"role '{principal.role.value}' may not list cases")
