"""What a caller may do with a particular case: read it (its key registered it, its department
leads or helps with it), register it on a channel. Which roles hold which permission is
`services/authz.py`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.authz import May, may
from services.case.lifecycle import FINISHED
from services.notices import inbox
from shared.enums import CaseStatus, Channel, Role
from shared.errors import forbidden, invalid
from shared.models import Case
from shared.principal import Principal

CHANNEL_OF_ROLE = {
    Role.portal: Channel.portal,
    Role.hotline: Channel.hotline,
    Role.window: Channel.window,
}
"""A channel's key registers that channel's cases only; the coordinator (and admin) may enter a
case from any channel, as when a complaint arrives by letter."""


def require_channel(principal: Principal, channel: Channel, intake_department: str | None) -> None:
    expected = CHANNEL_OF_ROLE.get(principal.role)
    if expected is not None and channel is not expected:
        raise invalid(
            "channel", f"a {principal.role.value} key registers '{expected.value}' cases only"
        )
    if intake_department is not None and not may(principal, May.name_intake_department):
        raise invalid(
            "intake_department",
            f"a {principal.role.value} key cannot name the first-responsible department",
        )


def can_read(principal: Principal, case: Case) -> bool:
    if may(principal, May.read_all_cases):
        return in_units(principal, case)
    if may(principal, May.read_own_registrations):
        return _registered_by(principal, case)
    if may(principal, May.handle_cases) and principal.department:
        dept = principal.department
        return dept in {
            case.lead_department,
            case.first_responsible_department,
            case.intake_department,
            *(case.co_departments or []),
        }
    return False


def in_units(principal: Principal, case: Case) -> bool:
    """A key bound to a unit (层级) has the cases its subtree leads, first answered for or
    registered at; every other key the whole city."""
    if principal.units is None:
        return True
    return not principal.units.isdisjoint(
        (case.lead_department, case.first_responsible_department, case.intake_hall)
    )


def require_in_units(principal: Principal, case: Case) -> None:
    """For the actions a coordinator takes on any case (route, assign, transfer, extensions):
    a unit-bound coordinator only on its subtree's."""
    if not in_units(principal, case):
        raise forbidden(f"case {case.case_no} is outside this key's unit")


def _registered_by(principal: Principal, case: Case) -> bool:
    if case.created_by_key_id is not None:
        return case.created_by_key_id == principal.key_id
    # A signed 12345 order is registered by the hotline's webhook, not by a key: the hotline's
    # keys read and rate the hotline's orders (issue 26 #19).
    return principal.role is Role.hotline and case.channel == Channel.hotline.value


def require_read(principal: Principal, case: Case) -> None:
    if not can_read(principal, case):
        raise forbidden(f"case {case.case_no} is not visible to this key")


def require_act(principal: Principal, case: Case) -> None:
    """Read it, and for a window key, be its window: the hall it was registered at, or the key
    that registered it (issue 26 #5: another hall's window read the case, as every window
    may, and closed it with feedback). The coordinator acts on any case."""
    require_read(principal, case)
    if principal.role is Role.window and not _at_its_window(principal, case):
        raise forbidden(
            f"case {case.case_no} was registered at another service hall; its own hall acts on it"
        )


def _at_its_window(viewer: Principal, case: Case) -> bool:
    registered = case.created_by_key_id is not None and case.created_by_key_id == viewer.key_id
    return registered or (viewer.department is not None and case.intake_hall == viewer.department)


def require_list(principal: Principal) -> None:
    if not (
        may(principal, May.read_all_cases)
        or may(principal, May.read_own_registrations)
        or may(principal, May.handle_cases)
    ):
        raise forbidden(f"role '{principal.role.value}' may not list cases")


def sees_in_clear(viewer: Principal, case: Case) -> bool:
    """Need to know: who sees this case's applicant unmasked (everyone else reads it masked)."""
    return _clear(
        viewer,
        registered_by_viewer=case.created_by_key_id is not None
        and case.created_by_key_id == viewer.key_id,
        hall=case.intake_hall,
        status=case.status,
        handling=[case.lead_department, *(case.assists_owed or [])],
    )


def sees_shown_in_clear(
    viewer: Principal, shown: Mapping[str, Any], *, registered_by_viewer: bool
) -> bool:
    """The same rule over a case as another service answered it (routing's to intake)."""
    return _clear(
        viewer,
        registered_by_viewer=registered_by_viewer,
        hall=shown.get("intake_hall"),
        status=str(shown.get("status")),
        handling=[shown.get("lead_department"), *(shown.get("assists_owed") or [])],
    )


def _clear(
    viewer: Principal,
    *,
    registered_by_viewer: bool,
    hall: str | None,
    status: str,
    handling: Iterable[str | None],
) -> bool:
    """The coordinator, who calls people back across the city; the window key that registered
    the case and every window of the hall it was registered at; the lead while it handles it
    and a co-department while its opinion is owed (协办; not once the case is finished, not a
    department it was taken from, not a co-department that gave its opinion). A
    window key bound to no hall sees in clear only what it registered itself."""
    if viewer.role in (Role.coordinator, Role.system):
        return True
    if viewer.role is Role.window:
        return registered_by_viewer or (viewer.department is not None and hall == viewer.department)
    if viewer.role is Role.department:
        return viewer.department in set(handling) and CaseStatus(status) not in FINISHED
    return False


def inbox_scope(viewer: Principal) -> inbox.Scope:
    """The applicants' texted replies a reader sees, by the same need to know as the cases: a
    window its hall's and its own registrations', the coordinator every one (unmatched ones
    too: a number no case has)."""
    if viewer.units is not None:
        return inbox.Scope(units=viewer.units)
    if viewer.role in (Role.coordinator, Role.system):
        return inbox.Scope(everything=True)
    return inbox.Scope(hall=viewer.department, key_id=viewer.key_id)
