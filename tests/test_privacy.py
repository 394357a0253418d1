"""Personal data: masked for roles that do not need it, never in the logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx
import pytest
import structlog
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.privacy import erase, redact
from shared.logging import configure as configure_logging
from shared.logging import scrub
from shared.principal import SYSTEM
from shared.settings import Settings
from tests.helpers.bodies import body_for, case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import serve

pytestmark = pytest.mark.usefixtures("sample_departments")

APPLICANT = {"name": "黄丽华", "phone": "13800138001", "id_number": "11010519491231002X"}


@pytest.mark.parametrize(
    ("role", "full"),
    [
        ("window", True),
        ("coordinator", True),
        ("portal", False),
        ("hotline", False),
        ("admin", False),
        ("supervisor", False),
    ],
)
async def test_masking_by_role(
    intake: httpx.AsyncClient, make_key: KeyFactory, role: str, full: bool
) -> None:
    headers = await make_key(role)
    if role == "supervisor":  # supervisors read what the window registered
        window = await make_key("window")
        case_no = (
            await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=window)
        ).json()["case_no"]
        applicant = (await intake.get(f"/api/v1/cases/{case_no}", headers=headers)).json()[
            "applicant"
        ]
    else:
        applicant = (
            await intake.post(
                "/api/v1/cases", json=body_for(role, applicant=APPLICANT), headers=headers
            )
        ).json()["applicant"]
    if full:
        assert (applicant["name"], applicant["phone"], applicant["id_number"]) == (
            "黄丽华",
            "13800138001",
            "11010519491231002X",
        )
    else:
        assert (applicant["name"], applicant["phone"], applicant["id_number"]) == (
            "黄*华",
            "138****8001",
            "110***********002X",
        )


async def test_a_department_first_asked_but_not_leading_sees_it_masked(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """Need to know (issue 16): the lead and co-departments handling it see the applicant in
    clear (tests/test_need_to_know.py); the first-responsible department, until it leads,
    reads the case masked."""
    window = await make_key("window")
    case_no = (
        await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=window)
    ).json()["case_no"]
    dept = await make_key("department", "GZ-BDC")
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=dept)).json()
    assert shown["first_responsible_department"] == "GZ-BDC"
    assert shown["lead_department"] is None  # no rule table here: not routed
    assert shown["applicant"]["phone"] == "138****8001"


async def test_personal_data_never_reaches_the_logs(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    body = case_body(applicant=APPLICANT)
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        created = (await intake.post("/api/v1/cases", json=body, headers=window)).json()
        await intake.get(
            f"/api/v1/track/{created['tracking_code']}", params={"phone_last4": "8001"}
        )
        await intake.post(
            "/api/v1/cases",
            json=case_body(applicant={**APPLICANT, "phone": "13900000000x"}),
            headers=window,
        )
    finally:
        configure_logging("INFO")
    text = buffer.getvalue()
    assert '"route": "/api/v1/cases"' in text  # the requests were logged...
    for secret in ("黄丽华", "13800138001", "11010519491231002X", "13900000000x", "8001"):
        assert secret not in text  # ...but no personal data


SECRETS = ("黄丽华", "13800138001", "11010519491231002X")


@contextmanager
def _failing_case_insert(url: str) -> Iterator[None]:
    """A trigger that refuses every new case, quoting the applicant in its error message, as a
    constraint's DETAIL or a type error would: the database's words carry personal data."""
    create = """
        CREATE FUNCTION refuse_case() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused % % %', NEW.applicant_name, NEW.applicant_phone,
              NEW.applicant_id_number; END $$;
        CREATE TRIGGER refuse_case BEFORE INSERT ON cases
            FOR EACH ROW EXECUTE FUNCTION refuse_case();
    """
    drop = "DROP TRIGGER refuse_case ON cases; DROP FUNCTION refuse_case();"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(create))
    try:
        yield
    finally:
        asyncio.run(run(drop))


def test_a_database_error_logs_no_personal_data_in_process_or_through_uvicorn(
    settings: Settings, database_url: str, sample_departments: None
) -> None:
    """The in-process handler's log line and SQLAlchemy's error may not carry what the failed
    statement was given. A database error is answered where the other errors are, so uvicorn
    does not log a second "Exception in ASGI application" traceback of it (one line per
    failure; any line uvicorn does write goes through the same scrubbing pipeline)."""
    from intake_api.app import create_app

    key = asyncio.run(_issue_window_key(settings))
    body = case_body(applicant=APPLICANT)
    buffer = io.StringIO()
    with serve(create_app(settings)) as url, _failing_case_insert(database_url):
        configure_logging("DEBUG", stream=buffer)  # after uvicorn set up its own handlers
        try:
            r = httpx.post(f"{url}/api/v1/cases", json=body, headers=key, timeout=10)
        finally:
            configure_logging("INFO")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    text = buffer.getvalue()
    assert "asyncpg.exceptions.RaiseError" in text  # the failure was logged, with its kind...
    assert text.count('"event": "unhandled_error"') == 1  # ...once...
    assert "Exception in ASGI application" not in text
    for secret in (*SECRETS, "refused"):
        assert secret not in text, f"{secret!r} leaked into the log"  # ...but not its words
        assert secret not in r.text
    for line in text.splitlines():
        json.loads(line)  # every line, uvicorn's too, is one JSON object


async def _issue_window_key(settings: Settings) -> dict[str, str]:
    from services.apikey import service as apikeys
    from shared.database import make_engine, make_sessionmaker, transaction
    from shared.enums import Role

    engine = make_engine(settings, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            issued = await apikeys.issue(session, holder="test", issuer=SYSTEM, role=Role.window)
    finally:
        await engine.dispose()
    return {"Authorization": f"Bearer {issued.key}"}


def test_log_lines_are_scrubbed_of_phones_and_id_numbers() -> None:
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        structlog.get_logger("t").info("careless", note="call 13800138001 re 11010519491231002X")
        logging.getLogger("uvicorn.error").error("careless %s", "13800138001")
    finally:
        configure_logging("INFO")
    assert "13800138001" not in buffer.getvalue()
    assert "11010519491231002X" not in buffer.getvalue()
    assert buffer.getvalue().count("<phone>") == 2


async def test_a_case_routed_at_once_is_shown_as_the_callers_role_sees_it(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """The answer to a registration is routing's view of the routed case, masked for the caller:
    a portal sees the applicant masked, the window in full; both see the department."""
    from tests.helpers.rules import publish

    await publish(routing, await make_key("admin"))
    for role, phone in (("portal", "138****8001"), ("window", "13800138001")):
        r = await intake.post(
            "/api/v1/cases",
            json=body_for(role, applicant=APPLICANT),
            headers=await make_key(role),
        )
        case = r.json()
        assert (case["status"], case["applicant"]["phone"]) == ("assigned", phone), role
        assert "routed" not in case
        assert ("黄丽华" in r.text) is (role == "window")


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("黄丽华来电", "黄*华来电"),
        ("call 13800138001 now", "call 138****8001 now"),
        ("另一号码13912345678", "另一号码139****5678"),  # not the applicant's: still a phone
        ("全角１３８００１３８００１", "全角１３８****８００１"),
        ("证件11010519491231002X。", "证件110***********002X。"),
        ("证件１１０１０５１９４９１２３１００２Ｘ", "证件１１０***********００２Ｘ"),
        ("单号 2026111800000001234 与 123456", "单号 2026111800000001234 与 123456"),
        ('=HYPERLINK("x")\x00', '=HYPERLINK("x")\x00'),  # only personal data is its business
        ("", ""),
    ],
)
def test_free_text_is_redacted_for_masked_readers(typed: str, masked: str) -> None:
    from services.privacy import redact

    assert redact(typed, **APPLICANT) == masked


_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_SEPARATORS = ["", " ", "-", ".", "－", "\u3000", "．"]


@st.composite
def written_mobile(draw: st.DrawFn) -> tuple[str, str]:
    """A mobile number as people write it (issue 26 #3): grouped 3-4-4 or anyhow, with spaces,
    dashes or dots, full-width or not, after +86, 0086 or (+86) or nothing."""
    number = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    groups = draw(st.sampled_from([(3, 4, 4), (3, 8), (11,), (1, 2, 4, 4), (3, 3, 5)]))
    sep = draw(st.sampled_from(_SEPARATORS))
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    written = sep.join(parts)
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "(+86)", "（+86）"]))
    written = prefix + written
    if draw(st.booleans()):
        written = written.translate(_FULL)
    return number, written


def _plain(text: str) -> str:
    return "".join(c for c in text if c.isdigit()).translate(
        str.maketrans("０１２３４５６７８９", "0123456789")
    )


@examples(max_examples=400, deadline=None)
@given(written_mobile(), st.sampled_from(["来电", "联系电话：", "黄丽华 ", ""]))
def test_every_way_of_writing_a_mobile_is_masked_and_erased(
    mobile: tuple[str, str], before: str
) -> None:
    number, written = mobile
    text = f"{before}{written}，请回电"
    # Masked, only the first three and the last four digits stay (as in `138****8001`); erased
    # or scrubbed from a log line, none; a +86 in front goes with the number.
    for out, kept in (
        (redact(text, name="黄丽华", phone=None, id_number=None), number[:3] + number[-4:]),
        (erase(text, name="黄丽华", phone=None, id_number=None), ""),
        (scrub(text), ""),
    ):
        assert out is not None
        assert _plain(out) == kept, (written, out)


@examples(max_examples=200, deadline=None)
@given(
    st.text("0123456789", min_size=17, max_size=17),
    st.sampled_from(["0", "7", "X", "x"]),
    st.sampled_from([(6, 8, 4), (18,), (6, 12), (3, 3, 4, 4, 4)]),
    st.sampled_from(_SEPARATORS),
    st.booleans(),
)
def test_every_way_of_writing_an_id_number_is_masked_and_erased(
    body: str, check: str, groups: tuple[int, ...], sep: str, wide: bool
) -> None:
    number = body + check
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    written = sep.join(parts)
    if wide:
        written = written.translate(_FULL)
    text = f"身份证号{written}。"
    for out, kept in (
        (redact(text, name=None, phone=None, id_number=None), number[:3] + number[-4:]),
        (erase(text, name=None, phone=None, id_number=None), ""),
        (scrub(text), ""),
    ):
        assert out is not None
        assert _plain(out) == kept.rstrip("Xx"), (written, out)  # the date of birth is gone
