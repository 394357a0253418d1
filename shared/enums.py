"""The domain's vocabulary, with DOMAIN.md's code names. Stored as text, checked by constraints."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    portal = "portal"
    window = "window"
    hotline = "hotline"
    wechat = "wechat"
    phone = "phone"


class CaseStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    signed = "signed"
    suspended = "suspended"
    returned = "returned"
    replied = "replied"
    reopened = "reopened"
    resolved_on_spot = "resolved_on_spot"
    out_of_scope = "out_of_scope"
    closed = "closed"


class Trigger(StrEnum):
    """Why the citizen came to the window (the regulation, seed 004)."""

    not_told_once = "not_told_once"
    materials_refused = "materials_refused"
    overdue_elsewhere = "overdue_elsewhere"
    other = "other"


class Kind(StrEnum):
    """can't / hard / won't be done (seed 001); `refused` is a conduct matter supervisors see."""

    cannot = "cannot"
    hard = "hard"
    refused = "refused"


class Category(StrEnum):
    """Blockage categories (seed 002)."""

    policy = "policy"
    system = "system"
    materials = "materials"
    attitude = "attitude"
    acceptance = "acceptance"
    consultation = "consultation"
    approval = "approval"
    multi_department = "multi_department"


class ApplicantType(StrEnum):
    individual = "individual"
    enterprise = "enterprise"


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"


class Role(StrEnum):
    portal = "portal"
    hotline = "hotline"
    window = "window"
    department = "department"
    coordinator = "coordinator"
    supervisor = "supervisor"
    dashboard = "dashboard"
    admin = "admin"
    auditor = "auditor"
    """Reads the audit trail of who saw personal data, and nothing else (issue 16)."""
    security_admin = "security_admin"
    """Issues, revokes and binds the other roles' keys, and nothing else (三员分立, issue 26)."""
    system = "system"
    """The project's own processes (the worker) acting on a case; never given to a client."""
