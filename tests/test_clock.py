from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.clock.deadlines import add, working_seconds_between
from shared.durations import parse_duration
from shared.timeutil import SHANGHAI

CAL = WorkCalendar()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (sh(2026, 11, 23, 10), "5 working_days", sh(2026, 11, 30, 10)),  # Mon → next Mon
        (sh(2026, 11, 23, 10), "2 working_hours", sh(2026, 11, 23, 12)),
        (sh(2026, 11, 23, 11), "2 working_hours", sh(2026, 11, 23, 14, 30)),  # across lunch
        (sh(2026, 11, 27, 17), "2 working_hours", sh(2026, 11, 30, 10)),  # Fri → Mon
        (sh(2026, 11, 28, 20), "1 working_hours", sh(2026, 11, 30, 10)),  # Sat night
        (sh(2026, 11, 23, 7), "1 working_days", sh(2026, 11, 23, 18)),  # before opening
        (
            sh(2026, 9, 30, 17, 30),
            "1 working_hours",
            sh(2026, 10, 8, 9, 30),
        ),  # National Day: Oct 1–7 off
        (sh(2026, 11, 23, 10), "30 minutes", sh(2026, 11, 23, 10, 30)),
        (sh(2026, 11, 28, 10), "24 hours", sh(2026, 11, 29, 10)),  # natural time ignores weekends
    ],
)
def test_add(start: datetime, duration: str, due: datetime) -> None:
    assert add(start, parse_duration(duration), CAL) == due


def test_unknown_year_is_an_alert_not_a_guess() -> None:
    with pytest.raises(CalendarUnknown) as caught:
        add(sh(2026, 12, 30, 10), parse_duration("5 working_days"), CAL)
    assert caught.value.year == 2027


def test_overrides_win_over_the_library() -> None:
    from services.clock.calendar import YearSchedule

    cal = WorkCalendar(schedules={2026: YearSchedule(workdays=frozenset({date(2026, 11, 28)}))})
    assert add(sh(2026, 11, 27, 17), parse_duration("2 working_hours"), cal) == sh(2026, 11, 28, 10)


@pytest.mark.parametrize("bad", ["5", "five days", "5 fortnights", "-1 days", "0 hours", ""])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError, match=r"duration|unit|positive"):
        parse_duration(bad)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 6, 1)),
    st.integers(min_value=1, max_value=40),
)
def test_working_time_between_inverts_add(start: datetime, hours: int) -> None:
    begin = start.replace(tzinfo=SHANGHAI)
    due = add(begin, parse_duration(f"{hours} working_hours"), CAL)
    assert working_seconds_between(begin, due, CAL) == pytest.approx(hours * 3600)


def test_resume_moves_the_deadline_by_the_suspended_working_time() -> None:
    from types import SimpleNamespace

    from services.case.timeline import derive, paused
    from services.rules.schemas import SlaPolicy

    standard = SlaPolicy.model_validate(
        {
            "sign_within": "2 working_hours",
            "handle_within": "5 working_days",
            "warn_at": 0.8,
            "red_after": "3 working_days",
        }
    )

    def happened(action: str, at: datetime) -> SimpleNamespace:
        return SimpleNamespace(action=action, at=at, data={})

    # Thu 17:00 → Mon 10:00: one hour on Thursday, a full day Friday, one hour Monday.
    suspended, resumed = sh(2026, 11, 19, 17), sh(2026, 11, 23, 10)
    assert paused(suspended, resumed, standard, CAL) == parse_duration("9.5 working_hours")
    routed = [happened("route", sh(2026, 11, 18, 10))]
    before = derive(routed, standard, CAL)
    after = derive(
        [*routed, happened("suspend", suspended), happened("resume", resumed)], standard, CAL
    )
    assert before.handle_due_at is not None
    assert after.handle_due_at == add(
        before.handle_due_at, parse_duration("9.5 working_hours"), CAL
    )
    assert after.sign_due_at == before.sign_due_at  # the pause moves the handling clock only

    urgent = standard.model_copy(update={"handle_within": parse_duration("24 hours")})
    six_hours = paused(sh(2026, 11, 20, 10), sh(2026, 11, 20, 16), urgent, CAL)
    assert six_hours == parse_duration("21600 seconds")  # natural time for urgent


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # 2026 Spring Festival: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are make-up working days.
        (sh(2026, 2, 13, 17), "2 working_hours", sh(2026, 2, 14, 10)),
        (sh(2026, 2, 14, 17), "2 working_hours", sh(2026, 2, 24, 10)),
        (sh(2026, 2, 27, 17, 30), "1 working_hours", sh(2026, 2, 28, 9, 30)),
        # National Day: Oct 1–7 off; Sat Oct 10 is a make-up working day.
        (sh(2026, 10, 9, 17), "2 working_hours", sh(2026, 10, 10, 10)),
        # Across New Year 2025 → 2026 (Jan 1–3 off, Sun Jan 4 a make-up day).
        (sh(2025, 12, 31, 17), "2 working_hours", sh(2026, 1, 4, 10)),
        (sh(2026, 11, 23, 9), "1 working_days", sh(2026, 11, 23, 18)),  # ends at the close
    ],
)
def test_holiday_blocks_and_make_up_days(start: datetime, duration: str, due: datetime) -> None:
    assert add(start, parse_duration(duration), CAL) == due


def test_an_operator_loads_an_unknown_year() -> None:
    from services.clock.calendar import YearSchedule

    cal = WorkCalendar(
        schedules={
            2027: YearSchedule(
                holidays=frozenset({date(2027, 1, 1)}),
                workdays=frozenset({date(2027, 1, 2)}),
            )
        }
    )
    # Wed Dec 30 2026 17:00 + 2 working hours: Dec 31 (Thu) 10:00 — then into 2027.
    assert add(sh(2026, 12, 31, 17), parse_duration("2 working_hours"), cal) == sh(2027, 1, 2, 10)
    assert cal.is_workday(date(2027, 1, 4))  # an ordinary Monday
    assert not cal.is_workday(date(2027, 1, 9))  # an ordinary Saturday


def test_long_spans_agree_with_a_day_by_day_count() -> None:
    """A calendar upload recomputes years-long spans; they are computed by jumps, not walked
    (bench/clock_bench.py measures that), and must land where a walk lands."""
    cal = WorkCalendar()
    day, counted = date(2015, 1, 5), 0
    while counted < 2000:
        day += timedelta(days=1)
        counted += cal.is_workday(day)
    start = sh(2015, 1, 5, 10)
    due = add(start, parse_duration("2000 working_days"), cal)
    assert due == sh(day.year, day.month, day.day, 10)
    one_day = working_seconds_between(start, add(start, parse_duration("1 working_days"), cal), cal)
    assert working_seconds_between(start, due, cal) == 2000 * one_day
