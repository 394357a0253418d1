"""Case reads at a city's peak, in clear (each writing its audit row) and masked (none), against
the service as `make run` starts it, and the database doing the same work in the same run.

    python bench/read_load.py [--processes N] [--connections 32] [--seconds 15] [--cases 500]

Needs `wrk` and `pgbench` (Debian: `apt-get install wrk postgresql-client`). It:
1. starts `gaodedim run` on a fresh var dir and registers `--cases` cases at the GZ-BDC hall;
2. drives `GET /api/v1/cases/{case_no}` over random cases with wrk, alternating a window key of
   that hall (the applicant in clear: one audit row a read) and one of another hall (masked:
   no row), twice each, so a slow stretch of the machine does not favour either;
3. checks that the clear runs wrote one audit row per read and the masked runs none;
4. replays each read's database work (as the statement log shows it) with pgbench;
5. prints reads/s, p50/p99 and the ratio to the replay for both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from typing import Any

import httpx
from _stack import WRK_DONE, Stack, drive, replay, require, running

LUA = (
    r"""
local nos = {}
function init(args)
  key = args[1]
  for line in io.lines(args[2]) do table.insert(nos, line) end
end
request = function()
  local no = nos[math.random(#nos)]
  return wrk.format("GET", "/api/v1/cases/" .. no, {["Authorization"] = "Bearer " .. key})
end
"""
    + WRK_DONE
)

# One read's database work, from the statement log: the case by number within its month's
# partition, its history, the notices it was sent; in clear also the applicant's texted replies
# and the audit row, in the same transaction. The key is cached by the service (no statement).
READ = r"""
\set i random(1, {cases})
BEGIN;
SELECT c.* FROM cases c JOIN bench_reads b ON c.case_no = b.case_no AND c.id = b.id
  WHERE b.n = :i \gset c_
SELECT * FROM case_events WHERE case_id = :c_id ORDER BY id;
SELECT * FROM notices WHERE case_id = :c_id ORDER BY id;
{clear}COMMIT;
"""
CLEAR = r"""SELECT * FROM sms_replies WHERE case_id = :c_id ORDER BY id;
INSERT INTO audit_log (key_id, role, operation, case_nos, fields, address)
  SELECT NULL, 'window', 'GET /api/v1/cases/{{case_no}}', ARRAY[case_no], '{{name,phone}}',
  '127.0.0.1' FROM bench_reads WHERE n = :i;
"""


def _register(stack: Stack, key: str, n: int) -> list[str]:
    nos = []
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            r = client.post(
                f"{stack.intake}/api/v1/cases",
                json={
                    "channel": "window",
                    "description": f"第{i}位市民:营业执照一直领不到,窗口说材料不全",
                    "applicant": {"name": "黄丽华", "phone": f"1390{i:07d}"},
                },
                headers={"Authorization": f"Bearer {key}"},
            )
            r.raise_for_status()
            nos.append(r.json()["case_no"])
    return nos


def _wrk(stack: Stack, args: argparse.Namespace, key: str) -> dict[str, Any]:
    before = stack.count("SELECT count(*) FROM audit_log")
    load = drive(
        stack.intake,
        stack.tmp / "read.lua",
        key,
        str(stack.tmp / "nos.txt"),
        connections=args.connections,
        seconds=args.seconds,
    )
    # Reads still in flight when wrk stops are answered (and audited) a moment later: counted
    # with this run, not the next (a masked run once showed a clear run's last 3 rows).
    time.sleep(2)
    return {
        "rate": load.rate,
        "ok": load.ok,
        "errors": load.socket_errors + load.non2xx,
        "p50_ms": load.p50_us / 1000,
        "p99_ms": load.p99_us / 1000,
        "audit_rows": stack.count("SELECT count(*) FROM audit_log") - before,
    }


def _replay(stack: Stack, args: argparse.Namespace, clear: bool) -> float:
    script = READ.format(cases=args.cases, clear=CLEAR.format() if clear else "")
    return replay(stack, script, connections=args.connections, seconds=args.seconds)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    require("wrk", "pgbench", "psql")
    with running(args.processes) as stack:
        hall, other = stack.key("window", "GZ-BDC"), stack.key("window", "GZ-SWJ")
        nos = _register(stack, hall, args.cases)
        (stack.tmp / "nos.txt").write_text("\n".join(nos) + "\n")
        (stack.tmp / "read.lua").write_text(LUA)
        subprocess.run(
            [
                "psql",
                stack.psql_url,
                "-c",
                "CREATE TABLE bench_reads (n int PRIMARY KEY, case_no text, id bigint)",
                "-c",
                "INSERT INTO bench_reads SELECT row_number() OVER (ORDER BY id), case_no, id "
                "FROM cases",
            ],
            check=True,
            capture_output=True,
        )
        warm = argparse.Namespace(**{**vars(args), "seconds": 5})
        for key in (hall, other):  # connections opened, caches filled: not measured
            _wrk(stack, warm, key)
        runs: dict[str, list[dict[str, Any]]] = {"clear": [], "masked": []}
        for _ in range(2):
            runs["clear"].append(_wrk(stack, args, hall))
            runs["masked"].append(_wrk(stack, args, other))
        replay = {"clear": _replay(stack, args, True), "masked": _replay(stack, args, False)}
        summary = {}
        for view, results in runs.items():
            rows = [r["audit_rows"] for r in results]
            oks = [r["ok"] for r in results]
            # A read still in flight when wrk stops is answered (and audited) uncounted: at
            # most one a connection.
            audited = (
                all(ok <= n <= ok + args.connections for n, ok in zip(rows, oks, strict=True))
                if view == "clear"
                else rows == [0, 0]
            )
            rate = statistics.mean(r["rate"] for r in results)
            print(
                f"{view}: "
                + ", ".join(
                    f"{r['rate']:.0f}/s (p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
                    f"{r['errors']} errors)"
                    for r in results
                )
                + f"; audit rows {rows} for {oks} 2xx ({'as expected' if audited else 'WRONG'});"
                f" replay {replay[view]:.0f}/s, ratio {rate / replay[view]:.2f}"
            )
            summary[view] = {"runs": results, "replay_tps": round(replay[view])}
            if not audited:
                raise SystemExit("the audit trail does not match the reads")
        print(json.dumps({"processes": args.processes, **summary}))


if __name__ == "__main__":
    main()
