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

from services.routing.engine import CompiledTable, evaluate
from services.routing.schemas import CaseFacts, RuleTable

HERE = Path(__file__).resolve().parent.parent / "examples"
RULES = 10_000
CASES = 5_000
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
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
        channel=rng.choice(CHANNELS),
        title=word(rng) + word(rng),
        description=text,
        category=rng.choice(CATEGORIES),
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
    print(
        f"compiled route: mean {statistics.mean(timings):.1f} µs, p50 {timings[len(timings) // 2]:.1f} µs, "
        f"p99 {timings[int(len(timings) * 0.99)]:.1f} µs, max {timings[-1]:.1f} µs"
    )
    print(f"naive evaluate (for comparison): mean {statistics.mean(naive):.0f} µs")


if __name__ == "__main__":
    main()
