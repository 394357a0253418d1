"""Seconds from now to three minutes before the next New Year in Shanghai, for `make test-clock`.

`make test` must pass at any hour and on any date, so the suite is also run with every
process's clock (PostgreSQL's too) moved there by libfaketime: Shanghai's midnight, the end
of a month and of a year all pass while it runs. A test that read the wall clock where it
should set one fails there, whatever the hour it is run at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.timeutil import SHANGHAI

BEFORE = timedelta(minutes=3)


def seconds_to_new_year_eve(now: datetime) -> int:
    new_year = datetime(now.astimezone(SHANGHAI).year + 1, 1, 1, tzinfo=SHANGHAI)
    return int((new_year - BEFORE - now).total_seconds())


if __name__ == "__main__":
    print(seconds_to_new_year_eve(datetime.now(UTC)))
