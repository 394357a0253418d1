"""What the outbox carries: one name per kind of message, for the producers that write them and
the worker that delivers them (stored as the text value, so the names in the table never move).
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    registered = "case.registered"
    """A case to hand to routing: written with the case, so routing being down never loses one
    (routing settles it when it routes the case)."""
    department_notify = "department.notify"
    """A department's webhook: a case it leads or helps with changed."""
    channel_callback = "channel.callback"
    """A status change or card on a case whose channel asked to hear of them (the 12345
    hotline's `callback_url`)."""
    applicant_notice = "applicant.notice"
    """An SMS or WeChat notice to the applicant, rendered and sent by the worker."""
    staff_sms = "staff.sms"
    """A text to staff: a department's notice mobile (督办) or whoever is on duty (值班). The
    payload names the department or the shift, never the number: it is read at delivery."""
