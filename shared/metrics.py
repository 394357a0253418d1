"""Prometheus metrics (prometheus-client): what the domain, the worker and the APIs count.

The metric objects are module-level, as prometheus-client expects; they hold no connections.
Gauges that need the database (cases by status, outbox backlog) are read at scrape time, at
most every METRICS_CACHE_SECONDS, by the APIs; counters of what the worker did (cards, warnings,
sweeps, deliveries, folds) live in the worker process and are served by sla_worker/metrics.py.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "gaodedim_http_requests_total", "HTTP requests", ["app", "method", "route", "status"]
)
LATENCY = Histogram(
    "gaodedim_http_request_duration_seconds",
    "HTTP request latency",
    ["app", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CASES_BY_STATUS = Gauge("gaodedim_cases", "Cases by status", ["status"])
CASES_OVERDUE = Gauge("gaodedim_cases_overdue", "Open cases past a deadline")
OUTBOX_BACKLOG = Gauge("gaodedim_outbox_messages", "Outbox messages by state", ["state"])
OUTBOX_OLDEST_RETRYING = Gauge(
    "gaodedim_outbox_oldest_retrying_seconds",
    "Age of the oldest undelivered message that failed at least once, by topic (case.registered:"
    " a case registered but not yet routed because routing did not answer)",
    ["topic"],
)
OUTBOX_DELIVERED = Counter(
    "gaodedim_outbox_delivered_total", "Outbox messages delivered", ["topic"]
)
OUTBOX_FAILED_ATTEMPTS = Counter(
    "gaodedim_outbox_failed_attempts_total", "Outbox delivery attempts that failed", ["topic"]
)

DEADLINE_ALERTS = Counter(
    "gaodedim_deadline_calendar_unknown_total",
    "Deadlines that could not be set because the calendar year is not loaded",
)
CARDS_ISSUED = Counter("gaodedim_cards_issued_total", "Cards issued", ["colour", "deadline"])
ESCALATIONS = Counter(
    "gaodedim_escalations_total", "Cases raised a level (提级)", ["level", "reason"]
)
WARNINGS_ISSUED = Counter(
    "gaodedim_warnings_issued_total", "Deadline warnings issued", ["deadline"]
)
SWEEP_SECONDS = Histogram("gaodedim_sla_sweep_seconds", "Duration of one SLA sweep batch")
SWEEP_LAG = Gauge(
    "gaodedim_sla_sweep_lag_seconds", "Now minus the oldest SLA check still due (0 when none is)"
)
STATS_DAYS_FOLDED = Counter(
    "gaodedim_stats_days_folded_total", "Days folded into the stats rollups by the worker"
)
STATS_DIRTY_DAYS = Gauge(
    "gaodedim_stats_dirty_days",
    "Days whose stats rollup waits for the worker's fold (grows while no worker folds)",
)
CARDS_THIS_MONTH = Gauge("gaodedim_cards_this_month", "Cards standing this month", ["colour"])
CALENDAR_KNOWN_UNTIL = Gauge(
    "gaodedim_calendar_known_until_timestamp_seconds",
    "1 January (Shanghai) of the first year from now on the working-day calendar does not know",
)
NOTICES_SENT = Counter(
    "gaodedim_notices_sent_total",
    "Notices sent to applicants, by channel and notice",
    ["channel", "event"],
)
NOTICE_SEGMENTS = Counter(
    "gaodedim_notice_segments_total",
    "SMS parts the sent notices took (what is billed)",
    ["channel"],
)
NOTICES_FAILED = Counter(
    "gaodedim_notices_failed_total",
    "Notices a provider refused or could not be reached for, by channel, notice and whether it"
    " will be tried again (retry) or never (permanent)",
    ["channel", "event", "kind"],
)
NOTICE_RECEIPTS = Counter(
    "gaodedim_notice_receipts_total",
    "Carriers' delivery receipts for sent notices, by channel and whether the phone got it",
    ["channel", "delivered"],
)
SMS_REPLIES = Counter(
    "gaodedim_sms_replies_total",
    "Messages applicants texted back: rating, opt_out, other (for a person), seen (a resend)",
    ["outcome"],
)
CASES_IN_DEFAULT_PARTITION = Gauge(
    "gaodedim_cases_in_default_partition",
    "Cases registered in a month that had no partition of its own (0 when the worker keeps up)",
)
READY = Gauge("gaodedim_ready", "1 when this process's last /readyz check passed, else 0")
