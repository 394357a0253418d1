"""Matter search (办事指南) over a city-sized catalogue, against the service as `make run` starts
it, and the database doing the same work in the same run.

    python bench/matters_bench.py [--processes N] [--matters 10000] [--seconds 15]

Needs `wrk` and `pgbench` (Debian: `apt-get install wrk postgresql-client`). It:
1. starts `gaodedim run` on a fresh var dir and imports `--matters` matters (the sample
   catalogue's 44 varied by district, applicant and kind of request) with `gaodedim matters
   import`, as an operator does;
2. drives `GET /api/v1/matters?q=` with wrk over 40 queries as windows type them (word order
   swapped, traditional characters, full-width letters, words of materials), at 2, 8 and 16
   connections (a hall's clerks searching at once);
3. replays each query's database work (the GIN index's narrowing by character pairs, the
   substring tests, the ranking) with pgbench, with the same clients;
4. prints searches/s, p50/p99 and the ratio to the replay; the goal is p99 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from _stack import EXAMPLES, WRK_DONE, Stack, _cli, drive, replay, require, running

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from services.matter.search import needed, terms

DISTRICTS = ["越秀区", "海珠区", "荔湾区", "天河区", "白云区", "黄埔区", "番禺区", "花都区",
             "南沙区", "从化区", "增城区"]  # fmt: skip
KINDS = ["", "(个人)", "(企业)", "(补办)", "(变更)", "(延续)", "(注销)", "(港澳台居民)",
         "(外籍人员)", "(委托代办)", "(网上办理)", "(跨省通办)", "(容缺受理)", "(告知承诺)",
         "(老年人)", "(残疾人)", "(军人)", "(退役军人)", "(新就业形态)", "(农村)",
         "(集体)"]  # fmt: skip
QUERIES = [
    "注销营业执照", "營業執照 註銷", "个体户注销", "户口迁入", "戶口遷入 投靠", "二手房过户",
    "不动产转移登记", "违章注记", "继承登记 公证", "抵押注销", "公积金 租房", "ＧＪＪ 提取",
    "社保卡补办", "养老保险转移", "跨省 转移接续", "失业金", "退休 待遇", "异地就医备案",
    "门诊特定病种", "医疗费 报销", "身份证换领", "居住证", "护照", "公租房 申请", "租赁备案",
    "维修资金", "施工许可", "占道", "招牌", "清税证明", "个税汇算", "发票", "随迁子女 入学",
    "积分入学", "低保", "结婚登记", "残疾人补贴", "加装电梯", "电梯 意见征询", "居住证明",
]  # fmt: skip

LUA = (
    r"""
local qs = {}
function init(args)
  key = args[1]
  for line in io.lines(args[2]) do table.insert(qs, line) end
end
request = function()
  local q = qs[math.random(#qs)]
  return wrk.format("GET", "/api/v1/matters?limit=10&q=" .. q,
                    {["Authorization"] = "Bearer " .. key})
end
"""
    + WRK_DONE
)

# One search's database work: the matters holding every character pair of the query's words
# (the GIN index), each tested for every word, those holding all ranked (here with the words of
# a random one of the queries).
REPLAY = r"""
\set i random(1, {queries})
SELECT m.* FROM matters m, bench_queries q
 WHERE q.n = :i AND m.grams @> q.grams AND m.search_key LIKE ALL (q.patterns)
 ORDER BY m.position LIMIT 10;
"""


def catalogue(n: int) -> dict[str, Any]:
    sample = json.loads((EXAMPLES / "matters.sample.json").read_text())["matters"]
    out = []
    for i in range(n):
        base = sample[i % len(sample)]
        district = DISTRICTS[(i // len(sample)) % len(DISTRICTS)]
        kind = KINDS[(i // (len(sample) * len(DISTRICTS))) % len(KINDS)]
        out.append(
            {
                **base,
                "code": f"{base['code']}-{i:05d}",
                "name": f"{district}{base['name']}{kind}",
                "materials": base["materials"] + ([f"{kind.strip('()')}相关证明"] if kind else []),
            }
        )
    return {"matters": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--matters", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    require("wrk", "pgbench", "psql")
    with running(args.processes) as stack:
        path = stack.tmp / "matters.json"
        path.write_text(json.dumps(catalogue(args.matters), ensure_ascii=False))
        _cli(stack.env, "matters", "import", str(path))
        window = stack.key("window", "GZ-BDC")
        (stack.tmp / "q.txt").write_text("\n".join(urllib.parse.quote(q) for q in QUERIES) + "\n")
        (stack.tmp / "search.lua").write_text(LUA)
        _queries_table(stack)
        _load(stack, window, connections=4, seconds=5)  # warm: not measured
        results = {}
        for connections in (2, 8, 16):  # wrk's two threads need two connections at least
            load = _load(stack, window, connections=connections, seconds=args.seconds)
            tps, latency = replay(
                stack,
                REPLAY.format(queries=len(QUERIES)),
                connections=connections,
                seconds=args.seconds,
            )
            results[connections] = {**load, "replay_tps": round(tps), "replay_ms": latency}
            print(
                f"{connections} connections: {load['rate']:.0f} searches/s, p50 "
                f"{load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, {load['errors']} errors; "
                f"replay {tps:.0f}/s ({latency} ms), ratio {load['rate'] / tps:.2f}"
            )
        print(json.dumps({"processes": args.processes, "matters": args.matters, **results}))


def _load(stack: Stack, key: str, *, connections: int, seconds: int) -> dict[str, Any]:
    load = drive(
        stack.routing,
        stack.tmp / "search.lua",
        key,
        str(stack.tmp / "q.txt"),
        connections=connections,
        seconds=seconds,
    )
    return {
        "rate": load.rate,
        "errors": load.socket_errors + load.non2xx,
        "p50_ms": load.p50_us / 1000,
        "p99_ms": load.p99_us / 1000,
    }


def _queries_table(stack: Stack) -> None:
    def array(items: list[str]) -> str:
        return "ARRAY[{}]::text[]".format(
            ", ".join("'" + i.replace("'", "''") + "'" for i in items)
        )

    rows = ", ".join(
        f"({n}, {array(['%' + t + '%' for t in terms(q)])}, {array(needed(terms(q)))})"
        for n, q in enumerate(QUERIES, start=1)
    )
    subprocess.run(
        [
            "psql",
            stack.psql_url,
            "-c",
            "CREATE TABLE bench_queries (n int PRIMARY KEY, patterns text[], grams text[])",
            "-c",
            f"INSERT INTO bench_queries VALUES {rows}",
        ],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    main()
