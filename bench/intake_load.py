"""Registrations at a city's peak, against the service as `make run` starts it, measured with a
load generator that is not the bottleneck, and compared with the database doing the same work.

    python bench/intake_load.py [--processes 1] [--connections 4,32,128] [--seconds 20]

Needs `wrk` and `pgbench` (Debian: `apt-get install wrk postgresql-client`). It:
1. starts `gaodedim run` on a fresh var dir (embedded PostgreSQL and Redis, WEB_CONCURRENCY=N),
   loads the sample departments and rule table and issues a window key;
2. times single registrations with nothing else running;
3. at each number of clients: drives distinct registrations (own phone, own text, own
   Idempotency-Key) with wrk, noting the CPU each part of the stack spent per registration;
   checks that every 2xx is a stored case and that every stored case names its lead
   department; replays the database work of one registration (intake's transaction and
   routing's) with pgbench on the same server, same clients, same seconds;
4. stops the service and runs the stack's floor with the grouped hand-over
   (`stack_floor.py`) at the same clients, unless --no-floor;
5. prints registrations/s, p50/p99, errors, the ratio to the replay and to the floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from _stack import WRK_DONE, Stack, drive, replay, require, running

LUA = (
    r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  key = args[1]
  run = tonumber(args[2] or "0")
end
request = function()
  counter = counter + 1
  local n = (run * 10 + thread_id) * 10000000 + counter
  local body = string.format(
    '{"channel":"window","district":"越秀区","title":"营业执照办不下来 %d",' ..
    '"description":"第%d位市民:窗口说材料不全但没有一次性告知,营业执照一直领不到,编号%d",' ..
    '"applicant":{"phone":"13%d%08d"}}', n, n, n, run, n % 100000000)
  return wrk.format("POST", "/api/v1/cases", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = "bench-" .. n,
  }, body)
end
"""
    + WRK_DONE
)

# One registration's database work, as the statement log shows it: intake's transaction (the
# idempotency record, the caller's repeat lock and look-up, the case, its event, its outbox
# message and the applicant's notice, the audit row of the answer, the answer kept for
# replays), then routing's (the case locked, the hand-over message settled, the case routed,
# its event and notice), then the worker sending the two notices. Nothing more is written
# when routing answers in time. Case numbers come from blocks and tracking codes are checked
# by their constraint, so neither costs a statement per case. The replay's notices are due a
# day later, so the service's own worker (running) does not send them before pgbench does.
PGBENCH = r"""
\set n random(1, 1000000000000)
\set phone random(13000000000, 13999999999)
BEGIN;
INSERT INTO idempotency_records (scope, key, request_hash)
  VALUES ('bench', 'k' || :n, 'h') ON CONFLICT (scope, key) DO NOTHING RETURNING id;
SELECT pg_advisory_xact_lock(hashtext('phone:' || :phone));
SELECT id FROM cases WHERE applicant_phone = :phone::text AND status <> 'closed'
  AND created_at >= now() - interval '30 days' ORDER BY created_at DESC LIMIT 50 FOR UPDATE;
INSERT INTO cases (case_no, tracking_code, status, channel, title, description, district,
  applicant_phone, applicant_type, co_departments, attachments, tracking_card,
  created_at, updated_at)
  VALUES ('PB-' || :n, 'T' || :n, 'registered', 'window', '营业执照办不下来',
  '窗口说材料不全但没有一次性告知,营业执照一直领不到', '越秀区', :phone::text, 'individual',
  '{}', '[]', '{"code": "x"}', now(), now()) RETURNING id \gset
INSERT INTO case_events (case_id, at, action, to_status, actor_role, data)
  VALUES (:id, now(), 'register', 'registered', 'window', '{"channel": "window"}');
INSERT INTO outbox (topic, payload, available_at)
  VALUES ('case.registered', json_build_object('case_no', 'PB-' || :n),
  now() + interval '10 seconds');
INSERT INTO outbox (topic, payload, ordering_key, available_at)
  VALUES ('applicant.notice', json_build_object('case_id', :id, 'event', 'registered'),
  'applicant.notice:PB-' || :n, now() + interval '1 day') RETURNING id AS first_notice \gset
INSERT INTO audit_log (key_id, role, operation, case_nos, fields, address)
  VALUES (NULL, 'window', 'POST /api/v1/cases', ARRAY['PB-' || :n], '{name,phone}', '127.0.0.1');
UPDATE idempotency_records SET status_code = 201, response_body = '{"case_no": "x"}',
  settled = false WHERE scope = 'bench' AND key = 'k' || :n;
COMMIT;
BEGIN;
SELECT * FROM cases WHERE case_no = 'PB-' || :n FOR UPDATE;
UPDATE outbox SET delivered_at = now() WHERE payload ->> 'case_no' = 'PB-' || :n
  AND delivered_at IS NULL AND topic = 'case.registered';
UPDATE cases SET status = 'assigned', lead_department = 'GZ-SCJG', updated_at = now(),
  sign_due_at = now() + interval '1 day', handle_due_at = now() + interval '5 days',
  sla_next_check_at = now() + interval '1 day', routing = '{"rule_id": "x"}',
  notices_day = current_date, notices_that_day = 2
  WHERE id = :id;
INSERT INTO case_events (case_id, at, action, from_status, to_status, actor_role, data)
  VALUES (:id, now(), 'route', 'registered', 'assigned', 'system', '{"rule_id": "x"}');
INSERT INTO outbox (topic, payload, ordering_key, available_at)
  VALUES ('applicant.notice', json_build_object('case_id', :id, 'event', 'assigned'),
  'applicant.notice:PB-' || :n, now() + interval '1 day') RETURNING id AS second_notice \gset
COMMIT;
""" + "".join(
    # The worker sends both notices: each read, rendered, kept, then marked delivered (its claim,
    # one statement for up to 50 messages, is left out).
    f"""BEGIN;
SELECT * FROM cases WHERE id = :id;
SELECT name FROM departments WHERE code = 'GZ-SCJG';
SELECT * FROM notice_templates WHERE event = '{event}' ORDER BY version DESC LIMIT 1;
INSERT INTO notices (event_id, case_id, event, channel, text, segments, sent_at)
  VALUES (:{notice}, :id, '{event}', 'console', '【办不成事窗口】您的诉求已登记', 1, now());
COMMIT;
UPDATE outbox SET delivered_at = now(), last_error = NULL WHERE id = :{notice};
"""
    for event, notice in (("registered", "first_notice"), ("assigned", "second_notice"))
)


REPLAY_MOST = 64


def _single_registrations(intake: str, key: str, n: int = 100) -> list[float]:
    times = []
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            body = {
                "channel": "window",
                "description": f"单次登记测量第{i}件:营业执照领不到",
                "applicant": {"phone": f"1370{i:07d}"},
            }
            t0 = time.perf_counter()
            r = client.post(
                f"{intake}/api/v1/cases",
                json=body,
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"single-{i}"},
            )
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 201, r.text
    return times


def _load(
    stack: Stack, key: str, script: Path, run: int, connections: int, seconds: int
) -> dict[str, Any]:
    """wrk at `connections` clients, then every 2xx checked stored and routed, then pgbench
    replaying the same database work with the same clients."""
    before = stack.count("SELECT count(*) FROM cases")
    cpu_before = stack.cpu()
    # Each run its own numbers: another run's Idempotency-Keys would be replays, its phones
    # repeats (重复件) of the same caller.
    load = drive(stack.intake, script, key, str(run), connections=connections, seconds=seconds)
    cpu = stack.cpu_between(cpu_before, stack.cpu())
    ok = load.ok
    time.sleep(3)  # any hand-over still under way settles
    stored = stack.count("SELECT count(*) FROM cases") - before
    unrouted = stack.count("SELECT count(*) FROM cases WHERE lead_department IS NULL")
    print(
        f"wrk, {connections} clients, {seconds} s: {load.rate:.0f} registrations/s, "
        f"p50 {load.p50_us / 1000:.0f} ms, p99 {load.p99_us / 1000:.0f} ms, "
        f"max {load.max_us / 1000:.0f} ms; {ok} answered 2xx, {load.non2xx} other statuses, "
        f"{load.socket_errors} socket errors"
    )
    print(f"  stored {stored} new cases for {ok} 2xx answers (more: in flight when wrk stopped)")
    print(f"  cases without a lead department: {unrouted}")
    print(
        "  CPU per registration under load: "
        + ", ".join(f"{k} {1000 * v / max(ok, 1):.1f} ms" for k, v in sorted(cpu.items()) if v)
    )
    # The embedded server takes 100 connections, the service's pools hold some of them.
    sessions = min(connections, REPLAY_MOST)
    tps, latency = replay(stack, PGBENCH, connections=sessions, seconds=seconds)
    print(
        f"  pgbench replay of the same database work, {sessions} clients: {tps:.0f}/s "
        f"(latency average {latency} ms); ratio service / replay {load.rate / tps:.2f}"
    )
    return {
        "rate": round(load.rate),
        "p50_ms": load.p50_us / 1000,
        "p99_ms": load.p99_us / 1000,
        "errors": load.socket_errors + load.non2xx,
        "stored": stored,
        "ok": ok,
        "unrouted": unrouted,
        "replay_tps": round(tps),
        "cpu_ms": {k: round(1000 * v / max(ok, 1), 2) for k, v in cpu.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--connections", default="4,32,128", help="comma-separated")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the grouped floor (stack_floor.py)"
    )
    args = parser.parse_args()
    require("wrk", "pgbench", "psql")
    clients = [int(n) for n in args.connections.split(",")]
    results: dict[str, Any] = {"processes": args.processes}
    with running(args.processes) as stack:
        key = stack.key("window", "GZ-BDC")  # a service hall's window
        single = _single_registrations(stack.intake, key)
        results["single_median_ms"] = round(statistics.median(single), 1)
        print(
            f"single registration, no load: median {statistics.median(single):.1f} ms, "
            f"p90 {statistics.quantiles(single, n=10)[-1]:.1f} ms"
        )
        script = stack.tmp / "register.lua"
        script.write_text(LUA)
        print(f"{args.processes} process(es) per API:")
        for run, n in enumerate(clients):
            results[str(n)] = _load(stack, key, script, run, n, args.seconds)
    if not args.no_floor:
        print("the stack's floor, grouped hand-over (bench/stack_floor.py), same clients:")
        from stack_floor import floor  # it takes this script's requests

        grouped = floor(["grouped"], clients, args.seconds)["grouped"]
        for n in clients:
            results[str(n)]["floor"] = round(grouped[n]["rate"])
            results[str(n)]["of_floor"] = round(results[str(n)]["rate"] / grouped[n]["rate"], 2)
            print(f"  {n} clients: service / grouped floor {results[str(n)]['of_floor']:.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
