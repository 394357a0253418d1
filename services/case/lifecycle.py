"""The life of a case (DOMAIN.md) as a table: which action moves which status where. The
actions that move it (`Action`) and the steps that leave it as it is (`Note`) are the domain's
vocabulary, in `shared.enums`.

One table answers both "may this happen?" and "what may happen now?", so a refused transition
can tell the caller the actions it could take instead.
"""

from __future__ import annotations

from shared.enums import Action
from shared.enums import CaseStatus as S
from shared.errors import conflict

TRANSITIONS: dict[S, dict[Action, S]] = {
    S.registered: {
        Action.merge: S.merged,
        Action.route: S.assigned,
        Action.assign: S.assigned,
        Action.resolve_on_spot: S.resolved_on_spot,
        Action.refer_out_of_scope: S.out_of_scope,
    },
    S.assigned: {
        Action.merge: S.merged,
        Action.sign: S.signed,
        Action.return_: S.returned,
        Action.transfer: S.assigned,
        Action.assign: S.assigned,
    },
    S.returned: {Action.assign: S.assigned, Action.merge: S.merged},
    S.signed: {
        Action.merge: S.merged,
        Action.suspend: S.suspended,
        Action.reply: S.replied,
        Action.submit_reply: S.reviewing,
        Action.transfer: S.assigned,
    },
    S.reviewing: {Action.approve_reply: S.replied, Action.send_back: S.signed},
    S.suspended: {Action.resume: S.signed, Action.merge: S.merged},
    S.merged: {Action.follow_reply: S.replied, Action.unmerge: S.assigned},
    S.replied: {
        Action.feedback_satisfied: S.closed,
        Action.feedback_unsatisfied: S.rating_review,
        Action.auto_close: S.closed,
    },
    S.rating_review: {Action.reopen: S.reopened, Action.uphold: S.closed},
    S.reopened: {
        Action.sign: S.signed,
        Action.assign: S.assigned,
        Action.route: S.assigned,
        Action.merge: S.merged,
    },
    S.resolved_on_spot: {
        Action.feedback_satisfied: S.closed,
        Action.feedback_unsatisfied: S.rating_review,
        Action.auto_close: S.closed,
    },
    S.out_of_scope: {
        Action.feedback_satisfied: S.closed,
        Action.feedback_unsatisfied: S.rating_review,
        Action.auto_close: S.closed,
    },
    S.closed: {},
}


# Status groups: each defined here once.
OPEN = (
    S.registered,
    S.assigned,
    S.signed,
    S.suspended,
    S.returned,
    S.reopened,
    S.reviewing,
    S.merged,
)
"""Not yet answered: the in-progress figures, the overdue gauge, a case list's `open` filter
(and the partial index `ix_cases_open_handle_due_at`, tested to name the same statuses)."""
CLOCK_RUNNING = (S.assigned, S.signed, S.reopened, S.reviewing)
"""A department's handling clock runs: warnings and cards can fall due (a reply in review has
not reached the citizen: its clock runs on)."""
HAS_DEADLINES = (*CLOCK_RUNNING, S.suspended)
"""Open cases whose deadlines still matter (a suspended clock resumes): what a calendar
correction recomputes."""
AUTO_CLOSING = (S.replied, S.resolved_on_spot, S.out_of_scope)
"""Answered and waiting for the citizen's feedback: closed by the sweep when none comes."""
RATED_UNSATISFIED = (S.rating_review,)
"""不满意甄别: a coordinator's to decide (reopen or uphold); the sweep reopens it when nobody
decides in time. No department's clock runs and it is not closed."""
FINISHED = (S.closed, S.resolved_on_spot, S.out_of_scope)
"""Nothing more for a department to do: not a repeat's target, `closed` to Open311."""

SYSTEM_ONLY = frozenset({Action.auto_close, Action.follow_reply, Action.merge})
"""Never offered to a client as something it could do on this case: taken by the SLA sweep
(`auto_close`), by the group's lead case's reply (`follow_reply`), or through the lead case
(`merge`: `POST …/{lead}/merge`)."""


def allowed_actions(status: S) -> list[str]:
    """What a client may ask for next, in this status (its role is checked when it asks)."""
    return sorted(a.value for a in TRANSITIONS[status] if a not in SYSTEM_ONLY)


def next_status(status: S, action: Action) -> S:
    """The status `action` leads to from `status`; a 409 naming the allowed actions otherwise."""
    target = TRANSITIONS[status].get(action)
    if target is None:
        raise conflict(
            f"cannot {action.value} a case that is {status.value}",
            current_status=status.value,
            allowed_actions=allowed_actions(status),
        )
    return target
