"""Pure rules: identifiers, masks, the life-cycle table, codes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.case import codes
from services.case.lifecycle import (
    SYSTEM_ONLY,
    TRANSITIONS,
    allowed_actions,
    next_status,
)
from services.privacy import mask_id_number, mask_name, mask_phone
from services.validation import id_number_problem, is_valid_phone, normalise_phone
from shared.enums import Action, CaseStatus
from shared.errors import DomainError


@pytest.mark.parametrize(
    "value", ["11010519491231002X", "440106198501010015", "11010119900307803X"]
)
def test_valid_id_numbers(value: str) -> None:
    assert id_number_problem(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("1101051949123100", "18"),
        ("11010519491231002Y", "digit or X"),
        ("110105300001010016", "out of range"),
    ],
)
def test_invalid_id_numbers(value: str, why: str) -> None:
    problem = id_number_problem(value)
    assert problem is not None
    assert why in problem


@given(st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_id_check_never_raises(value: str) -> None:
    id_number_problem(value)


@pytest.mark.parametrize(
    ("raw", "normal", "ok"),
    [
        ("+86 138 0013 8001", "13800138001", True),
        ("138-0013-8001", "13800138001", True),
        ("020-83190000", "020-83190000", True),
        ("02083190000", "02083190000", True),
        ("12345", "12345", False),
        ("23800138001", "23800138001", False),
    ],
)
def test_phones(raw: str, normal: str, ok: bool) -> None:
    assert normalise_phone(raw) == normal
    assert is_valid_phone(normal) is ok


def test_masks() -> None:
    assert mask_phone("13800138001") == "138****8001"
    assert mask_phone("020-83190000") == "020****0000"
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert (mask_name("张三"), mask_name("黄丽华"), mask_name("欧阳晓明")) == (
        "张*",
        "黄*华",
        "欧**明",
    )
    assert mask_name(None) is None


def test_every_status_is_reachable_from_registered_and_closed_is_final() -> None:
    reached = {CaseStatus.registered}
    frontier = [CaseStatus.registered]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseStatus)
    assert TRANSITIONS[CaseStatus.closed] == {}


@given(st.sampled_from(list(CaseStatus)), st.sampled_from(list(Action)))
def test_next_status_agrees_with_allowed_actions(status: CaseStatus, action: Action) -> None:
    if action.value in allowed_actions(status) or (
        action in SYSTEM_ONLY and action in TRANSITIONS[status]
    ):
        assert next_status(status, action) in CaseStatus
    else:
        with pytest.raises(DomainError) as caught:
            next_status(status, action)
        assert caught.value.status == 409
        assert caught.value.extra["allowed_actions"] == allowed_actions(status)


def test_codes() -> None:
    assert codes.format_case_no("GZ", date(2026, 11, 22), 123) == "GZ-20261122-000123"
    code = codes.new_tracking_code()
    assert len(code) == 8
    assert set(code) <= set(codes.TRACKING_ALPHABET)
    assert not set("01OIL") & set(codes.TRACKING_ALPHABET)
    assert codes.normalise_tracking_code(" ab-cd efgh ") == "ABCDEFGH"


def test_production_refuses_to_run_without_real_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    # The suite may itself run against configured servers (`make test-pg15`): not here.
    for name in ("DATABASE_URL", "REDIS_URL", "SERVICE_KEY", "WEBHOOK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        ValidationError, match="DATABASE_URL, REDIS_URL, SERVICE_KEY, WEBHOOK_SIGNING_SECRET"
    ):
        Settings(_env_file=None, environment="production")
    real: dict[str, Any] = {
        "database_url": "postgresql://db/app",
        "redis_url": "redis://r",
        "service_key": "s" * 32,
    }
    with pytest.raises(ValidationError, match="needs WEBHOOK_SIGNING_SECRET"):
        Settings(_env_file=None, environment="production", **real)
    Settings(_env_file=None, environment="production", webhook_signing_secret="w" * 32, **real)
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(_env_file=None, database_url="sqlite:///x.db")
    ok = Settings(_env_file=None, database_url="postgres://u:p@db/app", redis_url="redis://r")
    assert ok.database_url == "postgresql+asyncpg://u:p@db/app"


@pytest.mark.parametrize(
    "name",
    ["service_key", "bootstrap_admin_key", "webhook_signing_secret", "hotline_webhook_secret"],
)
def test_a_short_secret_names_its_own_variable(name: str) -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    short: dict[str, Any] = {name: "short"}
    with pytest.raises(ValidationError, match=f"{name.upper()} must be at least") as refused:
        Settings(_env_file=None, **short)
    others = {"SERVICE_KEY", "BOOTSTRAP_ADMIN_KEY", "WEBHOOK_SIGNING_SECRET"} - {name.upper()}
    assert not any(f"{o} must" in str(refused.value) for o in others)
