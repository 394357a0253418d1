"""The 首问负责制 rule engine, pure. Two evaluations of one table that must always agree:

- `evaluate` walks the rules in order and says, for `explain`, why each one did or did not
  match. It is the specification.
- `CompiledTable.route` answers the same question fast for big tables: equality conditions
  become bitsets over the priority-ordered rules (a Python int, one bit a rule), keywords are
  found in one Aho-Corasick pass (pyahocorasick), and the first match is the lowest set bit.

No match never means nobody: the case goes to its intake department if it has one (the
first-responsible department), else to the table's fallback department.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick

from services.rules.schemas import CaseFacts, Rule, RuleTable
from shared.durations import Duration


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def case_text(facts: CaseFacts) -> str:
    return normalise(f"{facts.title or ''}{facts.description or ''}")


@dataclass(frozen=True)
class Decision:
    lead_department: str
    co_departments: tuple[str, ...]
    sla_policy: str | None
    rule_id: str | None
    reason: str
    fallback: bool = False
    assist_within: Duration | None = None
    """How long each co-department has for its opinion (协办); none: half the handling time."""


@dataclass
class RuleTrace:
    rule_id: str
    priority: int
    matched: bool
    failed: list[str] = field(default_factory=list)


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Ascending priority; equal priorities keep their order in the table."""
    return [r for _, r in sorted(enumerate(rules), key=lambda pair: (pair[1].priority, pair[0]))]


def _failures(rule: Rule, facts: CaseFacts, text: str) -> list[str]:
    failed: list[str] = []
    if rule.channels is not None and facts.channel not in rule.channels:
        failed.append(f"channel {facts.channel} not in {[c.value for c in rule.channels]}")
    if rule.categories is not None and facts.category not in rule.categories:
        failed.append(f"category {facts.category} not in {[c.value for c in rule.categories]}")
    if rule.districts is not None and facts.district not in rule.districts:
        failed.append(f"district {facts.district} not in {rule.districts}")
    if rule.applicant_types is not None and facts.applicant_type not in rule.applicant_types:
        failed.append(
            f"applicant_type {facts.applicant_type} not in "
            f"{[t.value for t in rule.applicant_types]}"
        )
    if rule.matter_code_prefix is not None and not (facts.matter_code or "").startswith(
        rule.matter_code_prefix
    ):
        failed.append(
            f"matter_code {facts.matter_code} does not start with {rule.matter_code_prefix}"
        )
    if rule.urgent is not None and facts.urgent != rule.urgent:
        failed.append(f"urgent is {facts.urgent}, rule wants {rule.urgent}")
    if rule.vulnerable is not None and facts.vulnerable != rule.vulnerable:
        failed.append(f"vulnerable is {facts.vulnerable}, rule wants {rule.vulnerable}")
    if rule.keywords_any is not None and not any(normalise(k) in text for k in rule.keywords_any):
        failed.append(f"none of keywords_any {rule.keywords_any} in the text")
    if rule.keywords_all is not None:
        missing = [k for k in rule.keywords_all if normalise(k) not in text]
        if missing:
            failed.append(f"keywords_all missing {missing}")
    if rule.keywords_none is not None:
        present = [k for k in rule.keywords_none if normalise(k) in text]
        if present:
            failed.append(f"keywords_none present {present}")
    return failed


def _matched(rule: Rule, facts: CaseFacts, text: str) -> str:
    parts = [f"rule {rule.id} (priority {rule.priority})"]
    if rule.keywords_any:
        found = [k for k in rule.keywords_any if normalise(k) in text]
        parts.append(f"keyword {found[0]}")
    for name in ("channels", "categories", "districts", "applicant_types"):
        if getattr(rule, name) is not None:
            parts.append(name)
    if rule.matter_code_prefix:
        parts.append(f"matter_code prefix {rule.matter_code_prefix}")
    if rule.urgent is not None:
        parts.append("urgent" if rule.urgent else "not urgent")
    if rule.vulnerable is not None:
        parts.append("vulnerable" if rule.vulnerable else "not vulnerable")
    return "matched " + ", ".join(parts)


def _decide(rule: Rule | None, table: RuleTable, facts: CaseFacts, text: str) -> Decision:
    if rule is not None:
        return Decision(
            rule.lead_department,
            tuple(rule.co_departments),
            rule.sla_policy,
            rule.id,
            _matched(rule, facts, text),
            assist_within=rule.assist_within,
        )
    if facts.intake_department:
        return Decision(
            facts.intake_department,
            (),
            None,
            None,
            "no rule matched: stays with the intake department (首问负责制)",
            fallback=True,
        )
    return Decision(
        table.fallback_department,
        (),
        None,
        None,
        "no rule matched and no intake department: the table's fallback department",
        fallback=True,
    )


def evaluate(table: RuleTable, facts: CaseFacts) -> tuple[Decision, list[RuleTrace]]:
    """The specification: first rule (by priority) whose every condition holds."""
    text = case_text(facts)
    trace: list[RuleTrace] = []
    for rule in ordered(table.rules):
        failed = _failures(rule, facts, text)
        trace.append(RuleTrace(rule.id, rule.priority, not failed, failed))
        if not failed:
            return _decide(rule, table, facts, text), trace
    return _decide(None, table, facts, text), trace


class CompiledTable:
    """A published table prepared once for routing many cases quickly."""

    def __init__(self, table: RuleTable) -> None:
        self.table = table
        self.rules = ordered(table.rules)
        n = len(self.rules)
        self.all_bits = (1 << n) - 1
        self._eq: dict[str, tuple[int, dict[object, int]]] = {}
        for attr, values_of in (
            ("channel", lambda r: r.channels),
            ("category", lambda r: r.categories),
            ("district", lambda r: r.districts),
            ("applicant_type", lambda r: r.applicant_types),
            ("urgent", lambda r: None if r.urgent is None else [r.urgent]),
            ("vulnerable", lambda r: None if r.vulnerable is None else [r.vulnerable]),
        ):
            unconditional = 0
            by_value: dict[object, int] = defaultdict(int)
            for i, rule in enumerate(self.rules):
                values = values_of(rule)
                if values is None:
                    unconditional |= 1 << i
                else:
                    for v in values:
                        by_value[v] |= 1 << i
            self._eq[attr] = (unconditional, dict(by_value))

        self._no_prefix = 0
        self._prefix: dict[str, int] = defaultdict(int)
        for i, rule in enumerate(self.rules):
            if rule.matter_code_prefix is None:
                self._no_prefix |= 1 << i
            else:
                self._prefix[rule.matter_code_prefix] |= 1 << i

        # Keywords: one automaton over every distinct normalised keyword.
        keyword_ids: dict[str, int] = {}
        self._any_free = 0
        self._all_free = 0
        any_bits: dict[int, int] = defaultdict(int)
        none_bits: dict[int, int] = defaultdict(int)
        self._all_need: dict[int, int] = {}
        all_rules_of: dict[int, list[int]] = defaultdict(list)

        def kid(word: str) -> int:
            return keyword_ids.setdefault(normalise(word), len(keyword_ids))

        for i, rule in enumerate(self.rules):
            if rule.keywords_any is None:
                self._any_free |= 1 << i
            else:
                for w in rule.keywords_any:
                    any_bits[kid(w)] |= 1 << i
            if rule.keywords_all is None:
                self._all_free |= 1 << i
            else:
                ids = {kid(w) for w in rule.keywords_all}
                self._all_need[i] = len(ids)
                for k in ids:
                    all_rules_of[k].append(i)
            for w in rule.keywords_none or []:
                none_bits[kid(w)] |= 1 << i
        self._any_bits = dict(any_bits)
        self._none_bits = dict(none_bits)
        self._all_rules_of = dict(all_rules_of)
        self._automaton: ahocorasick.Automaton | None = None
        words = [w for w in keyword_ids if w]
        if words:
            automaton = ahocorasick.Automaton()
            for word in words:
                automaton.add_word(word, keyword_ids[word])
            automaton.make_automaton()
            self._automaton = automaton

    def _found(self, text: str) -> set[int]:
        if self._automaton is None or not text:
            return set()
        return {kid for _, kid in self._automaton.iter(text)}

    def candidates(self, facts: CaseFacts) -> int:
        bits = self.all_bits
        for attr, (free, by_value) in self._eq.items():
            bits &= free | by_value.get(getattr(facts, attr), 0)
            if not bits:
                return 0
        code = facts.matter_code or ""
        prefix_bits = self._no_prefix
        for end in range(1, len(code) + 1):
            prefix_bits |= self._prefix.get(code[:end], 0)
        bits &= prefix_bits
        if not bits:
            return 0
        found = self._found(case_text(facts))
        any_ok = self._any_free
        none_hit = 0
        counts: dict[int, int] = defaultdict(int)
        for k in found:
            any_ok |= self._any_bits.get(k, 0)
            none_hit |= self._none_bits.get(k, 0)
            for i in self._all_rules_of.get(k, ()):
                counts[i] += 1
        all_ok = self._all_free
        for i, n in counts.items():
            if n == self._all_need[i]:
                all_ok |= 1 << i
        return bits & any_ok & all_ok & ~none_hit

    def route(self, facts: CaseFacts) -> Decision:
        bits = self.candidates(facts)
        rule = self.rules[(bits & -bits).bit_length() - 1] if bits else None
        return _decide(rule, self.table, facts, case_text(facts))
