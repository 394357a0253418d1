"""Who may do what: every role set the routes and the services check, in one table.

A route closes itself to the roles a permission never includes (`web.auth.allowed`);
a service checks the same permission again, and what depends on the case itself (which
department leads it, which key registered it) in `services/case/access.py`.
"""

from __future__ import annotations

from enum import StrEnum

from shared.enums import Role as R
from shared.errors import forbidden
from shared.principal import Principal


class May(StrEnum):
    """A permission; its value completes "role '…' may not …" in a refusal."""

    register = "register cases"
    act_at_window = "act on cases at the window"
    give_feedback = "give feedback"
    read_all_cases = "read every case"
    read_own_registrations = "read the cases its own key registered"
    name_intake_department = "name the first-responsible department"
    handle_cases = "handle cases as a department"
    coordinate = "assign cases, transfer any case or decide extensions"
    route = "route cases"
    read_cards = "read cards"
    rule_on_appeals = "rule on card appeals"
    configure = "change the rule table, departments or the calendar"
    read_rules = "read the rule table"
    read_stats = "read the figures"
    read_reports = "read the monthly report"
    operate_outbox = "see or retry outbox messages"
    manage_keys = "manage API keys"
    see_personal_data = "see applicants' personal data unmasked"
    read_sms_replies = "read what applicants texted back"
    unmask = "unmask a case's personal data with a stated reason"
    read_audit = "read the audit trail"
    keep_duty_roster = "keep a unit's duty roster"
    read_duty_roster = "read who is on duty"
    supervise = "issue supervision orders (督办) or reminders (催办)"
    read_supervisions = "read supervision orders"
    read_handover = "read a duty shift's handover"
    review_replies = "approve or send back a reply before the citizen reads it"
    review_ratings = "decide whether an unsatisfied rating is redone or the answer stands"
    rectify = "open, verify or reopen a rectification (整改)"
    work_on_rectifications = "start a rectification it owns or say it is done"
    read_rectifications = "read rectifications"
    read_matters = "search the matter catalogue"
    find_similar = "list open cases like a case (for 并单)"


ROLES: dict[May, frozenset[R]] = {
    May.register: frozenset({R.portal, R.hotline, R.window, R.coordinator, R.admin}),
    May.act_at_window: frozenset({R.window, R.coordinator, R.admin}),
    # `system`: the applicant's own rating, texted back to the replied notice.
    May.give_feedback: frozenset({R.portal, R.hotline, R.window, R.coordinator, R.admin, R.system}),
    May.read_all_cases: frozenset({R.window, R.coordinator, R.supervisor, R.admin, R.system}),
    # A channel sees the cases it brought in, to tell its citizens how they stand.
    May.read_own_registrations: frozenset({R.portal, R.hotline}),
    # The intake department becomes first-responsible (首问负责) and reads the case in full: a
    # portal or the hotline cannot put a department on the hook.
    May.name_intake_department: frozenset({R.window, R.coordinator, R.admin}),
    May.handle_cases: frozenset({R.department}),
    May.coordinate: frozenset({R.coordinator, R.admin}),
    May.route: frozenset({R.system, R.coordinator, R.admin}),
    May.read_cards: frozenset({R.supervisor, R.coordinator, R.admin, R.dashboard, R.department}),
    # Whoever configures the rules does not judge the cards they produce.
    May.rule_on_appeals: frozenset({R.supervisor}),
    # Separation of duties: those who configure do not rule on appeals or read the figures
    # they could shape, and supervisors do not change the rules they supervise by.
    May.configure: frozenset({R.admin}),
    May.read_rules: frozenset({R.admin, R.supervisor, R.coordinator, R.window}),
    May.read_stats: frozenset({R.dashboard, R.supervisor, R.coordinator, R.admin}),
    May.read_reports: frozenset({R.supervisor, R.admin, R.dashboard}),
    May.operate_outbox: frozenset({R.admin, R.supervisor}),
    # 三员分立 (等保 2.0): the security administrator holds the keys, the system administrator
    # (admin) configures, the audit administrator (auditor) reads the trail; none does another's
    # work, and the auditor's and security administrator's keys come only from the shell.
    May.manage_keys: frozenset({R.security_admin}),
    # Those who call the citizen back or serve them face to face; `system` is the service's own
    # processes (routing answering intake's hand-over, which intake then shows to its caller
    # masked as that caller's role requires). Everyone else sees masked data.
    May.see_personal_data: frozenset({R.window, R.department, R.coordinator, R.system}),
    # A citizen's own words, which may hold anything: those who call them back.
    May.read_sms_replies: frozenset({R.window, R.coordinator}),
    # A supervisor sees cases masked, and may see one in clear when they say why (audited).
    May.unmask: frozenset({R.supervisor}),
    # The trail of who saw what, for the auditor alone: not even an admin reads it.
    May.read_audit: frozenset({R.auditor}),
    # 值班: the coordinator keeps its unit's roster (the admin any unit's); those who escalate or
    # hand a case on read who is on duty, with the phones masked but for admins and coordinators.
    May.keep_duty_roster: frozenset({R.admin, R.coordinator}),
    May.read_duty_roster: frozenset(
        {R.admin, R.coordinator, R.supervisor, R.window, R.department, R.system}
    ),
    # 督办: the window's coordinators and the government's supervisors push a case; the lead
    # department answers (`handle_cases`). An admin configures and does not supervise.
    May.supervise: frozenset({R.coordinator, R.supervisor}),
    May.read_supervisions: frozenset(
        {R.coordinator, R.supervisor, R.department, R.dashboard, R.admin}
    ),
    # 交接班: what the shift leaves open (escalations, overdue orders, urgent cases), for those
    # on duty and those who supervise them.
    May.read_handover: frozenset({R.coordinator, R.supervisor, R.admin}),
    # 答复审核: the hall that registered the case (its windows) or a coordinator; the policy
    # says which (services/case/review.py).
    May.review_replies: frozenset({R.window, R.coordinator}),
    # 不满意甄别: the centre's coordinator, who neither gave the answer nor rated it (a
    # department would judge its own answer; a supervisor judges the coordinator's figures).
    May.review_ratings: frozenset({R.coordinator}),
    # 整改: the government's supervisors open and judge the fix; the owning department makes
    # it; the coordinators who see the cases, the dashboard and the admin read the register.
    May.rectify: frozenset({R.supervisor}),
    May.work_on_rectifications: frozenset({R.department}),
    May.read_rectifications: frozenset(
        {R.supervisor, R.coordinator, R.department, R.dashboard, R.admin}
    ),
    # 办事指南: those who tell a citizen what to bring (the window, the hotline, the coordinator),
    # the departments whose matters they are, and the admin who imports it.
    May.read_matters: frozenset({R.window, R.hotline, R.coordinator, R.department, R.admin}),
    # 并单: the coordinator chooses whom to merge; a window spots the caller it served before.
    May.find_similar: frozenset({R.coordinator, R.window}),
}


def may(principal: Principal, what: May) -> bool:
    return principal.role in ROLES[what]


def require(principal: Principal, what: May) -> None:
    if not may(principal, what):
        raise forbidden(f"role '{principal.role.value}' may not {what.value}")
