"""One typed settings object, read from the environment and an optional `.env`.

Why pydantic-settings: operators configure the service by environment in production and by
`.env` on a desk machine; one validated object means a typo fails at start-up, not mid-request.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.sms.tencent import TencentTemplate
from shared.urlguard import Allowed
from shared.wechat.subscribe import WechatTemplate


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field(default="development", description="development, test or production")
    database_url: str | None = None
    stats_database_url: str | None = None
    """A streaming replica for the figures and the monthly report (docs/CAPACITY.md); unset:
    the primary. Everything else, writes and case reads alike, stays on the primary."""
    redis_url: str | None = None
    intake_port: int = 8001
    routing_port: int = 8002
    worker_metrics_port: int = 8003
    worker_stale_seconds: float = Field(
        default=60,
        gt=0,
        description="/healthz on the worker fails when no job started for this long",
    )
    """Where each worker serves its Prometheus metrics (cards issued, sweep timings); 0: none."""
    bind_host: str = "127.0.0.1"
    web_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1, le=64
    )
    """Processes per API under `make run` (uvicorn workers). The default shares the cores between
    the two APIs: on 2 cores, 2 per API measured slower than 1 (bench/intake_load.py)."""
    var_dir: Path = Path("var")

    hotline_webhook_secret: str | None = None
    sms_webhook_secret: str | None = None
    """Signs the SMS provider's pushes to /webhooks/sms/* (replies and delivery receipts)."""
    bootstrap_admin_key: str | None = None

    case_no_prefix: str = "GZ"
    notice_provider: Literal["console", "aliyun", "tencent"] = "console"
    """Where the worker sends notices to applicants (services/notices/providers.py)."""
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    notice_sms_templates: dict[str, str] = Field(default_factory=dict)
    """Each notice's approved SMS template code, e.g. {"registered": "SMS_123456789", …}."""
    tencent_secret_id: str | None = None
    tencent_secret_key: str | None = None
    tencent_sms_app_id: str | None = None
    """The SmsSdkAppId of the SMS application in Tencent Cloud's console."""
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_templates: dict[str, TencentTemplate] = Field(default_factory=dict)
    """Each notice's approved template and the values filling {1}, {2}…: {"registered":
    {"template_id": "1234567", "params": ["case_no", "tracking_code", "department"]}, …}."""
    notice_signature: str = Field(default="办不成事窗口", min_length=1, max_length=12)
    """The sender's name each notice starts with (【…】), as the SMS provider approved it."""
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    """The city's mini program: with both set, a case with an openid is notified by subscribe
    message (SMS when WeChat will not take one)."""
    wechat_endpoint: str = "https://api.weixin.qq.com"
    wechat_state: Literal["formal", "trial", "developer"] = "formal"
    """Which version of the mini program a message opens (WeChat's miniprogram_state)."""
    wechat_templates: dict[str, WechatTemplate] = Field(default_factory=dict)
    """Each notice's subscribe template: {"replied": {"template_id": "…", "data":
    {"character_string1": "$case_no", "thing2": "$reply"}, "page": "pages/track?no=$case_no"}}."""
    key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    """How long a process trusts a key it verified; a revoked key stops working within this."""
    config_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    """How long routing trusts the latest rule table and calendar it read: a table published or
    a calendar year saved through one process routes new cases in every process within this."""
    case_number_block: int = Field(default=20, ge=1, le=10_000)
    """Case numbers each process reserves at once (see services/case/codes.py): larger blocks
    mean fewer reservations and larger gaps when a process restarts."""
    max_body_bytes: int = 64 * 1024
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    """Connections a process opens beyond its pool under a burst. At most DB_POOL_SIZE +
    DB_MAX_OVERFLOW + 1 (case numbers) per API process: docs/OPERATIONS.md sums them against
    max_connections."""
    worker_db_pool_size: int = Field(default=5, ge=1, le=1000)
    """A worker process's pool (plus DB_MAX_OVERFLOW): its jobs take one connection each, a few
    at a time, so it needs fewer than an API process."""
    db_statement_timeout_ms: int = 15_000
    """PostgreSQL cancels a statement after this long (server side)."""
    db_connect_timeout_seconds: float = 3.0
    db_pool_timeout_seconds: float = 5.0
    """How long a request waits for a free connection before it answers 503."""
    request_timeout_seconds: float = 10.0
    """No request runs longer: past it the API answers 503 and rolls back whatever it began, so a
    frozen database never holds a caller (or commits after the caller gave up)."""
    track_rate_limit_per_minute: int = 20
    track_lockout_failures: int = 10
    """Wrong look-ups of one tracking code (wrong phone digits) from one address before the code
    is locked for that address (issue 26 #9: not for the citizen, who asks from another)."""
    track_lockout_seconds: int = 3600
    """How long those failures count, and so how long a lock-out lasts at most."""
    track_code_lockout_failures: int = 30
    """Wrong look-ups of one code from any addresses before it is locked for everyone, for
    TRACK_CODE_LOCKOUT_SECONDS only: guessing from many addresses stays slow (30 tries in 10
    minutes at most), and nobody can lock a citizen out for longer than that."""
    track_code_lockout_seconds: int = 600
    forwarded_allow_ips: str = ""
    """Proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client; empty:
    trust none, so a caller cannot choose its own address for the rate limits."""
    redis_timeout_seconds: float = 0.5
    """Any one Redis call (rate limits, waking the worker) gives up after this long."""
    rate_limit_fail_open: bool = True
    """With Redis unreachable: let look-ups through (True) or answer 503 (False)."""
    routing_url: str = "http://127.0.0.1:8002"
    routing_timeout_seconds: float = 1.0
    handover_in_flight: int = Field(default=2, ge=1, le=64)
    """Hand-overs to routing on their way at once from one intake process; registrations that
    finish while that many are on their way wait and go together in the next (issue 32)."""
    handover_group_max: int = Field(default=50, ge=1, le=100)
    """The most cases one hand-over carries."""
    service_key: str | None = None
    """The key the project's own processes use with each other (role `system`); never a client's."""
    webhook_signing_secret: str | None = None
    callback_allowed_hosts: str = ""
    """Private targets callbacks and webhooks may reach (host names, IPs or CIDRs, comma-separated),
    e.g. the 12345 platform on the intranet. Everything else private, loopback or link-local is
    refused (SSRF)."""
    callback_ports: str = ""
    """Ports callbacks and webhooks may use (comma-separated); empty: any. On Kubernetes it
    lists exactly the ports the worker's egress NetworkPolicy opens, so a target on another
    port is refused when it is set (422), not dropped by the network at every delivery."""
    return_within: str = "1 working_days"
    rectification_card: Literal["none", "yellow", "red"] = "yellow"
    """整改 left undone past its due time: the card its owner gets (once), or none."""
    rating_review_within: str = "2 working_days"
    """不满意甄别: how long a coordinator has to decide an unsatisfied rating (reopen or uphold);
    undecided by then, the case reopens (RATING_REVIEW_WITHIN)."""
    outbox_retention: str = "30 days"
    personal_data_retention: str = "1095 days"
    """How long after a case closes its applicant's personal data is kept (three years); the
    worker then removes it, and the figures stay exact."""
    audit_retention: str = "365 days"
    """How long the audit trail is kept; never less than six months (183 days), which the table
    itself enforces."""
    idempotency_retention: str = "7 days"
    """How long a create's first answer is kept for its retries. The answer holds the
    applicant's personal data, so it is not kept for ever; a retry after this is a new request."""
    """How long delivered outbox messages are kept (for `GET /api/v1/outbox?state=delivered`)."""
    window_hold: str = "1 hours"
    """How long a case registered with `hold` waits for the window before routing takes it."""
    repeat_window: str = "30 days"
    """How far back a new complaint is compared with the same caller's open cases."""
    repeat_similarity: float = 0.8
    """How alike two complaints' texts must be (0–1, difflib ratio) to count as one matter."""
    max_returns: int = 2
    open311_public_channels: str = "portal"
    """Channels whose cases the keyless Open311 feed lists (comma-separated: portal, window,
    hotline). Cases from the window and the hotline came from people who never chose a public
    listing, so by default they are not in it."""
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    """`auto`: readable lines on a terminal, JSON otherwise (containers, files, pipes)."""
    metrics_cache_seconds: float = 30.0

    @field_validator("database_url", "stats_database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        """The project runs on PostgreSQL only; refuse anything else before it half-works."""
        if value is None or value == "":
            return None
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if not value.startswith("postgresql"):
            raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://…)")
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("open311_public_channels")
    @classmethod
    def _channels(cls, value: str) -> str:
        from shared.enums import Channel

        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in {c.value for c in Channel}]
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)}")
        return ",".join(names)

    @property
    def callback_targets(self) -> Allowed:
        return Allowed.parse(self.callback_allowed_hosts, self.callback_ports)

    @property
    def public_channels(self) -> list[str]:
        return [n for n in self.open311_public_channels.split(",") if n]

    @field_validator("callback_ports")
    @classmethod
    def _ports(cls, value: str) -> str:
        from shared.urlguard import parse_ports

        return ",".join(str(p) for p in sorted(parse_ports(value)))

    @field_validator("audit_retention")
    @classmethod
    def _six_months_at_least(cls, value: str) -> str:
        from shared.durations import parse_duration

        if parse_duration(value).natural().days < 183:
            raise ValueError("AUDIT_RETENTION must be at least 183 days (six months)")
        return value

    @field_validator(
        "window_hold",
        "outbox_retention",
        "idempotency_retention",
        "audit_retention",
        "personal_data_retention",
    )
    @classmethod
    def _natural(cls, value: str) -> str:
        from shared.durations import parse_duration

        if parse_duration(value).is_working:
            raise ValueError("expected natural time, e.g. '1 hours' or '30 days'")
        return value

    @field_validator("return_within", "repeat_window", "rating_review_within")
    @classmethod
    def _duration(cls, value: str) -> str:
        from shared.durations import parse_duration

        parse_duration(value)
        return value

    @field_validator(
        "bootstrap_admin_key",
        "service_key",
        "webhook_signing_secret",
        "hotline_webhook_secret",
        "sms_webhook_secret",
        "aliyun_access_key_secret",
        "wechat_app_secret",
        "tencent_secret_key",
    )
    @classmethod
    def _strong_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Keys a caller presents need 24 characters; signing secrets 16. The error names the
        variable that is wrong."""
        name = info.field_name or ""
        least = 24 if name in ("bootstrap_admin_key", "service_key") else 16
        if value and len(value) < least:
            raise ValueError(f"{name.upper()} must be at least {least} characters")
        return value or None

    @model_validator(mode="after")
    def _production_needs_real_servers(self) -> Settings:
        """Embedded servers are for a desk machine and tests; production must name its own."""
        if self.environment == "production":
            needed = ("database_url", "redis_url", "service_key", "webhook_signing_secret")
            missing = [n for n in needed if not getattr(self, n)]
            if missing:
                raise ValueError(f"production needs {', '.join(m.upper() for m in missing)}")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
