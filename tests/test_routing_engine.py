"""The engine: the sample table routes the sample cases; compiled and naive always agree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.rules.engine import CompiledTable, evaluate, normalise
from services.rules.schemas import CaseFacts, Rule, RuleTable
from shared.enums import ApplicantType, Category, Channel
from tests.helpers.bodies import EXAMPLES

TABLE = RuleTable.model_validate_json((EXAMPLES / "rules.sample.json").read_text())
SAMPLES = [json.loads(line) for line in (EXAMPLES / "cases.sample.jsonl").read_text().splitlines()]


def facts_of(case: dict[str, Any]) -> CaseFacts:
    return CaseFacts.model_validate({**case, "applicant_type": case["applicant"]["type"]})


@pytest.mark.parametrize("case", SAMPLES, ids=[c["title"] for c in SAMPLES])
def test_sample_cases_reach_their_departments(case: dict[str, Any]) -> None:
    compiled = CompiledTable(TABLE).route(facts_of(case))
    naive, _ = evaluate(TABLE, facts_of(case))
    assert compiled == naive
    assert compiled.lead_department == case["expected_lead"]
    assert list(compiled.co_departments) == case.get("expected_co", [])


def test_normalise_folds_width_case_and_space() -> None:
    assert normalise("ＡＢＣ 营业 执照\t") == "abc营业执照"


def test_explain_says_why_earlier_rules_failed() -> None:
    case = next(c for c in SAMPLES if c["title"].startswith("个人独资企业注销登记"))
    decision, trace = evaluate(TABLE, facts_of(case))
    assert decision.rule_id == "business-licence"
    assert trace[-1].matched
    assert not any(t.matched for t in trace[:-1])
    assert any("urgent is False" in f for f in trace[0].failed)
    assert "keyword 注销登记" in decision.reason


def test_no_match_goes_to_intake_then_fallback() -> None:
    empty = RuleTable(fallback_department="GZ-ZWFW", sla_policies={}, rules=[])
    d = CompiledTable(empty).route(CaseFacts(description="x", intake_department="LW-ZWFW"))
    assert (d.lead_department, d.fallback, d.rule_id) == ("LW-ZWFW", True, None)
    d = CompiledTable(empty).route(CaseFacts(description="x"))
    assert d.lead_department == "GZ-ZWFW"


WORDS = ["证", "营业执照", "户口", "ａ", "A", "社保", "房", "税"]
rules_st = st.builds(
    Rule,
    id=st.uuids().map(lambda u: u.hex[:12]),
    priority=st.integers(0, 5),
    channels=st.none() | st.lists(st.sampled_from(list(Channel)), min_size=1, max_size=2),
    categories=st.none() | st.lists(st.sampled_from(list(Category)), min_size=1, max_size=2),
    districts=st.none() | st.lists(st.sampled_from(["黄埔区", "番禺区"]), min_size=1, max_size=2),
    applicant_types=st.none()
    | st.lists(st.sampled_from(list(ApplicantType)), min_size=1, max_size=1),
    matter_code_prefix=st.none() | st.sampled_from(["A", "AB", "B"]),
    urgent=st.none() | st.booleans(),
    vulnerable=st.none() | st.booleans(),
    keywords_any=st.none() | st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    keywords_all=st.none() | st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    keywords_none=st.none() | st.lists(st.sampled_from(WORDS), min_size=1, max_size=2),
    lead_department=st.sampled_from(["D1", "D2", "D3"]),
    co_departments=st.just([]),
    sla_policy=st.just("standard"),
)
facts_st = st.builds(
    CaseFacts,
    channel=st.none() | st.sampled_from(list(Channel)),
    title=st.none() | st.text(alphabet="证营业执照户口ａA社保房税 \u3000x", max_size=12),
    description=st.text(max_size=40),
    category=st.none() | st.sampled_from(list(Category)),
    matter_code=st.none() | st.sampled_from(["A", "AB1", "B2", "C"]),
    district=st.none() | st.sampled_from(["黄埔区", "番禺区", "越秀区"]),
    applicant_type=st.sampled_from(list(ApplicantType)),
    urgent=st.booleans(),
    vulnerable=st.booleans(),
    intake_department=st.none() | st.just("INTAKE"),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rules_st, max_size=25), st.lists(facts_st, min_size=1, max_size=5))
def test_compiled_and_naive_agree(rules: list[Rule], cases: list[CaseFacts]) -> None:
    table = RuleTable(fallback_department="FALLBACK", sla_policies={}, rules=rules)
    compiled = CompiledTable(table)
    for facts in cases:
        assert compiled.route(facts) == evaluate(table, facts)[0]


@given(
    st.dictionaries(
        st.text(max_size=20), st.none() | st.booleans() | st.text(max_size=30) | st.integers()
    )
)
def test_never_raises_and_always_names_a_department(body: dict[str, Any]) -> None:
    try:
        facts = CaseFacts.model_validate(body)
    except ValueError:
        facts = CaseFacts(description=str(body))
    decision = CompiledTable(TABLE).route(facts)
    assert decision.lead_department
