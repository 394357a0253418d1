"""Routing one case against a 10,000-rule table: compile once, then time many routings.

Run with `make bench` (or `.venv/bin/python bench/routing_bench.py`). Prints compile time,
per-case latency percentiles and memory of the compiled table. The README quotes its figures.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.rules.engine import CompiledTable, evaluate
from services.rules.schemas import CaseFacts, RuleTable
from shared.enums import Category, Channel

HERE = Path(__file__).resolve().parent.parent / "examples"
RULES = 10_000
CASES = 5_000
HANZI = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 600))  # 600 common-block characters
DISTRICTS = [
    "越秀区",
    "海珠区",
    "荔湾区",
    "天河区",
    "白云区",
    "黄埔区",
    "番禺区",
    "花都区",
    "南沙区",
    "从化区",
    "增城区",
]
CHANNELS = ["portal", "window", "hotline", "wechat", "phone"]
CATEGORIES = [
    "policy",
    "system",
    "materials",
    "attitude",
    "acceptance",
    "consultation",
    "approval",
    "multi_department",
]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(HANZI) for _ in range(rng.randint(2, 4)))


def make_table(rng: random.Random, n: int) -> RuleTable:
    sample = json.loads((HERE / "rules.sample.json").read_text())
    rules = []
    for i in range(n):
        rule: dict[str, object] = {
            "id": f"r{i}",
            "priority": rng.randint(1, 100_000),
            "keywords_any": [word(rng) for _ in range(rng.randint(1, 6))],
            "lead_department": f"D{rng.randint(1, 300)}",
            "sla_policy": "standard",
        }
        if rng.random() < 0.3:
            rule["districts"] = rng.sample(DISTRICTS, rng.randint(1, 3))
        if rng.random() < 0.2:
            rule["channels"] = rng.sample(CHANNELS, rng.randint(1, 2))
        if rng.random() < 0.2:
            rule["categories"] = rng.sample(CATEGORIES, rng.randint(1, 2))
        if rng.random() < 0.1:
            rule["keywords_all"] = [word(rng)]
        if rng.random() < 0.1:
            rule["keywords_none"] = [word(rng)]
        if rng.random() < 0.1:
            rule["matter_code_prefix"] = f"M{rng.randint(0, 99)}"
        rules.append(rule)
    return RuleTable.model_validate({**sample, "rules": rules})


def make_case(rng: random.Random) -> CaseFacts:
    text = "".join(rng.choice(HANZI) for _ in range(rng.randint(40, 300)))
    return CaseFacts(
        channel=Channel(rng.choice(CHANNELS)),
        title=word(rng) + word(rng),
        description=text,
        category=Category(rng.choice(CATEGORIES)),
        district=rng.choice(DISTRICTS),
        matter_code=f"M{rng.randint(0, 150)}.{rng.randint(0, 9)}",
        urgent=rng.random() < 0.1,
    )


def main() -> None:
    rng = random.Random(20261122)
    table = make_table(rng, RULES)
    cases = [make_case(rng) for _ in range(CASES)]

    tracemalloc.start()
    started = time.perf_counter()
    compiled = CompiledTable(table)
    compile_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    for facts in cases[:200]:  # warm up, and check against the specification while at it
        assert compiled.route(facts) == evaluate(table, facts)[0]
    timings = []
    for facts in cases:
        t0 = time.perf_counter_ns()
        compiled.route(facts)
        timings.append((time.perf_counter_ns() - t0) / 1000)
    timings.sort()
    naive = []
    for facts in cases[:200]:
        t0 = time.perf_counter_ns()
        evaluate(table, facts)
        naive.append((time.perf_counter_ns() - t0) / 1000)
    print(f"rules={RULES} cases={CASES} keywords/case text 40-300 chars")
    print(f"compile: {compile_s * 1000:.0f} ms, peak memory while compiling {peak / 2**20:.1f} MiB")
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    mean, worst = statistics.mean(timings), timings[-1]
    print(f"compiled: mean {mean:.1f} µs, p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {worst:.1f} µs")
    print(f"naive evaluate (for comparison): mean {statistics.mean(naive):.0f} µs")


if __name__ == "__main__":
    main()
