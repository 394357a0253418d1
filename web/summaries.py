"""Each operation's summary (Chinese for the staff who use it, English for integrators) and what
more a caller should know of who may call it, written into the OpenAPI documents by
`contract.document`. The roles a route is open to are not written here: the document takes them
from `services/authz.py` through the route's `allowed` (so they cannot drift apart); a note says
what the service decides per case (which department leads it, which hall registered it). One
table, so a new route without a line here fails `tests/test_contract.py` instead of showing its
function name."""

from __future__ import annotations

KEYLESS = "No key."
STAFF = (
    "Window, coordinator, supervisor and admin keys read every case; a department key the "
    "cases it leads, helps with or first answered for; a portal or hotline key the cases it "
    "registered."
)

LEAD = "Only the case's lead department."

OPERATIONS: dict[str, tuple[str, str]] = {
    # health
    "healthz": ("存活检查 · Liveness", KEYLESS),
    "readyz": ("就绪检查 · Readiness: database, Redis and schema", KEYLESS),
    "metrics": ("监控指标 · Prometheus metrics", KEYLESS),
    # intake: cases
    "register_case": (
        "登记诉求 · Register a case",
        "A channel's key registers its own channel only. Send an `Idempotency-Key` so a retry "
        "stores the case once.",
    ),
    "list_cases": ("诉求列表 · List cases, newest first", STAFF),
    "get_case": ("诉求详情 · One case with its history", STAFF),
    "resolve_on_spot": (
        "当场解决 · Resolved on the spot",
        "While the case is registered (held at the window); a window key at its own hall.",
    ),
    "hand_over": (
        "移交分办 · Hand a held case over to routing",
        "A window key at its own hall.",
    ),
    "out_of_scope": (
        "非政务服务范围 · Out of scope: explained and referred",
        "A window key at its own hall.",
    ),
    "feedback": (
        "回访评价 · The applicant's satisfaction (unsatisfied reopens)",
        "Once the case is replied.",
    ),
    "track": (
        "进度查询 · The citizen looks a case up",
        f"{KEYLESS} The tracking code and the last four digits of the phone given at "
        "registration; a wrong code and wrong digits answer the same 404. Rate limited per "
        "address and per code; a code is locked for an hour after 10 wrong look-ups.",
    ),
    "choose_notices": (
        "通知设置 · The citizen turns a case's notices off or on",
        f"{KEYLESS} Proven as the look-up is (the tracking code and the phone's last four "
        "digits), with the same limits, lock-out and 404. Notices already written and not yet "
        "sent are dropped.",
    ),
    "list_notice_templates": (
        "通知模板 · The text each notice to applicants is sent with",
        "",
    ),
    "get_notice_template": (
        "通知模板版本 · One notice's text and every saved version",
        "",
    ),
    "save_notice_template": (
        "修改通知模板 · Save a notice's text as a new version",
        "Only the placeholders we fill are allowed; the answer shows the text filled in for a "
        "sample case and the SMS parts it takes.",
    ),
    "preview_notice_template": (
        "预览通知 · A notice's text filled in for a sample case",
        "Nothing is saved or sent.",
    ),
    "list_sms_replies": (
        "短信回复待阅 · What applicants texted back that needs a person",
        "A window key reads the replies on its hall's cases and its own registrations; a "
        "coordinator key every one. Newest first; `waiting=false` lists every reply, ratings "
        "and TD included.",
    ),
    "mark_sms_reply_read": (
        "标记已阅 · Mark an applicant's reply read",
        "Marking it again keeps the first time.",
    ),
    "unmask": (
        "查看明文 · A supervisor sees one case's applicant in clear, saying why",
        "`{reason}` is required and kept on the audit row this answer writes.",
    ),
    "list_audit": (
        "审计日志 · Who saw applicants' personal data, unmasked a case or exported",
        "Not even an admin reads it. Filters `case_no`, `key_id`, `role`, `from`, `to` (Shanghai "
        "days); newest first.",
    ),
    "receive_replies": (
        "短信回复 · What applicants texted back (Alibaba Cloud SmsUp push)",
        "No key: signed with SMS_WEBHOOK_SECRET as the hotline's orders are (HMAC-SHA256 of "
        "`timestamp.body`).",
    ),
    "receive_receipts": (
        "短信回执 · Delivery receipts for notices (Alibaba Cloud SmsReport push)",
        "No key: signed with SMS_WEBHOOK_SECRET as the hotline's orders are.",
    ),
    "receive_order": (
        "12345 派单接收 · A 12345 hotline work order",
        "No key: signed with HOTLINE_WEBHOOK_SECRET (HMAC-SHA256 of `timestamp.body`). One case "
        "per `order_id`; a changed body for a known order is a supplement.",
    ),
    # Open311
    "discovery": ("Open311 发现 · Discovery", KEYLESS),
    "services": ("Open311 服务列表 · Services (the blockage categories)", KEYLESS),
    "service_definition": ("Open311 服务定义 · A service's attributes", KEYLESS),
    "create_request": (
        "Open311 提交 · Submit a request",
        "A portal key as the `api_key` field.",
    ),
    "list_requests": (
        "Open311 查询列表 · Requests",
        "No key: the public feed (public channels only, no personal data). With the portal's "
        "`api_key`: its own requests in full.",
    ),
    "get_request": (
        "Open311 查询 · One request",
        "As the list: public view without a key, in full with the portal's own `api_key`.",
    ),
    # routing: keys
    "create_key": (
        "创建密钥 · Issue an API key (shown once)",
        "The auditor's and the security administrator's own keys are issued only at the "
        "servers' shell (`gaodedim keys create`).",
    ),
    "list_keys": ("密钥列表 · API keys (never the keys themselves)", ""),
    "revoke_key": ("吊销密钥 · Revoke a key", ""),
    "bind_hall": (
        "绑定大厅 · Bind a window key to its service hall",
        "Takes effect within KEY_CACHE_SECONDS.",
    ),
    # departments
    "list_departments": ("部门列表 · Departments", "Any key."),
    "create_department": ("新增部门 · Add a department", ""),
    "get_department": ("部门详情 · One department", "Any key."),
    "update_department": ("修改部门 · Change a department", ""),
    "delete_department": (
        "删除部门 · Delete a department (deactivated if it has cases or keys)",
        "",
    ),
    # rules
    "get_rules": ("分办规则 · The rule table: draft and current version", ""),
    "put_draft": ("保存草稿 · Save the draft rule table", ""),
    "publish": ("发布规则 · Publish the draft as a new version", ""),
    "get_version": ("历史版本 · A published version, as it was", ""),
    "explain": ("分办试算 · Where would this case go, and why", ""),
    "simulate": ("规则模拟 · What a table would move over stored cases", ""),
    # workflow
    "route": (
        "分办 · Route a registered case",
        "A routed case answers `routed: false` and is not changed.",
    ),
    "route_group": (
        "成组分办 · Route the cases handed over together",
        "Intake's hand-over under load: each case answered on its own; one that cannot be "
        "routed now stays registered and is routed later.",
    ),
    "sign": ("签收 · The lead department signs for the case", LEAD),
    "return_case": (
        "退单 · Return a mis-routed case, with a reason",
        f"{LEAD} Within the return window, before the assignment is final.",
    ),
    "transfer": (
        "转办 · Hand the case on to another department",
        "A department key for a case its department leads. The first-responsible department "
        "stays on record.",
    ),
    "suspend": ("挂起 · Wait for the applicant: the clock stops", LEAD),
    "resume": ("恢复 · Resume: the deadline moves by the time suspended", LEAD),
    "reply": ("答复 · The department's answer to the applicant", LEAD),
    "approve_reply": (
        "答复审核通过 · Approve a reply held for review: the citizen reads it now",
        "Where the case's policy has `reply_review: hall`, the window of the hall that "
        "registered it or a coordinator; `coordinator`, a coordinator only.",
    ),
    "send_back_reply": (
        "答复退回 · Send a reply back to the lead, with the reason",
        "The same reviewers. The handling deadline that was running stays.",
    ),
    "merge_cases": (
        "并单 · Merge cases into this one: one matter, many callers",
        "A coordinator (a unit-bound one within its subtree). The merged cases follow this one: "
        "its department, its clock (one card for a breach), its reply (each applicant told, "
        "each rating on their own).",
    ),
    "unmerge_cases": (
        "取消并单 · Take cases out of this one's group, before its reply",
        "A coordinator. Each goes back to the department as a new assignment; after the "
        "reply: 409.",
    ),
    "similar_cases": (
        "相似诉求 · Open cases like this one, for 并单",
        "Coordinators and windows: the same district and category, sharing its keywords; each "
        "shown as the reader may see it.",
    ),
    "import_matters": (
        "办事指南导入 · Import the matter catalogue as a new version, in force at once",
        "The admin. Every matter's department must exist (422 naming it).",
    ),
    "search_matters": (
        "办事指南查询 · Find a matter by a word of its name, materials or questions",
        "Windows, the hotline, coordinators, departments and admins. Full-width and "
        "traditional characters are read as their plain forms; the best `limit` matches.",
    ),
    "get_matter": ("办事指南详情 · One matter: its materials (一次性告知), basis, answers", ""),
    "open_rectification": (
        "整改立项 · Open a rectification: the owner is to fix what a kind of case shows",
        "A supervisor (a unit-bound one for departments of its subtree). The topic (keywords as "
        "共性问题 gives them) and/or the cases; due in working days. Late and not done, the owner "
        "gets one card as RECTIFICATION_CARD says.",
    ),
    "list_rectifications": (
        "整改台账 · The rectification register, newest first, each with its recurrence",
        "Supervisors, coordinators, the dashboard and admins (a unit-bound key its subtree's); "
        "a department key its own.",
    ),
    "get_rectification": (
        "整改详情 · One rectification: its cases (figures, not people), history, recurrence",
        "Another department's or another unit's answers 404.",
    ),
    "start_rectification": ("整改启动 · The owner takes the rectification in hand", ""),
    "finish_rectification": (
        "整改完成 · The owner says what changed and the document that says so",
        "From then on, cases matching the topic count as its recurrence.",
    ),
    "verify_rectification": ("整改验收 · A supervisor verifies a done rectification", ""),
    "reopen_rectification": (
        "整改退回 · A supervisor reopens a done or verified rectification, with the reason",
        "Optionally with a new due time in working days.",
    ),
    "decide_rating_review": (
        "不满意甄别 · Decide an unsatisfied rating: redo the case or uphold the answer",
        "A coordinator (a unit-bound one within its subtree), while the case is `rating_review`. "
        "`reopen`: 重办, a new handling deadline; `uphold` with a reason: the case closes and the "
        "applicant is told why. Undecided within RATING_REVIEW_WITHIN, the case reopens.",
    ),
    "assign": ("派单 · A coordinator assigns the case (final after the return limit)", ""),
    "request_extension": (
        "延期申请 · Ask for more working time",
        f"{LEAD} Before the handling deadline.",
    ),
    "decide_extension": ("延期审批 · Approve or refuse an extension", ""),
    # 协办
    "add_co_department": (
        "增加协办 · Ask one more department for its opinion",
        "The lead department or a coordinator (a unit-bound one on its subtree's cases).",
    ),
    "assist": (
        "协办意见 · A co-department gives its opinion",
        "Only a department with an open assist task on the case; once.",
    ),
    "waive_assist": (
        "免除协办 · Let the lead reply without a co-department's opinion",
        "A unit-bound coordinator on its subtree's cases only.",
    ),
    # calendar
    "get_year": ("工作日历 · A year as deadlines count it", "Any key."),
    "put_year": (
        "载入日历 · Load or correct a year's holidays and make-up days",
        "Open cases' deadlines are recomputed.",
    ),
    # duty roster
    "on_duty_now": (
        "当前值班 · Who is on duty now for a unit",
        "Nobody on duty in the unit: the nearest unit above it that has someone answers "
        "(`answering`). Phones in full for admins and coordinators, masked for others.",
    ),
    "get_roster": (
        "值班表 · A unit's shifts of one day",
        "Phones in full for admins and coordinators, masked for others.",
    ),
    "put_roster": (
        "排班 · Store a unit's shifts",
        "A coordinator bound to a unit keeps its subtree's rosters only; audited.",
    ),
    "get_handover": (
        "交接班 · What a unit's shift of one day leaves open",
        "A unit-bound key: its subtree's units only. Case numbers and where they stand, no "
        "applicant.",
    ),
    # supervision
    "supervise": (
        "督办 · Issue a supervision order to the case's lead department",
        "A unit-bound key: cases in its subtree only. Numbered `DB-YYYYMMDD-NNN`, due in "
        "working time; copied to the lead department's parent unit; audited.",
    ),
    "remind": (
        "催办 · Remind the lead department (counted, no deadline)",
        "A unit-bound key: cases in its subtree only.",
    ),
    "respond": (
        "督办反馈 · The addressed department answers an order",
        "Only the department the order is addressed to; once.",
    ),
    "list_supervisions": (
        "督办单列表 · Supervision orders",
        "A department key sees the orders addressed to it; a unit-bound key its subtree's.",
    ),
    "get_supervision": (
        "督办单 · One supervision order",
        "A department key: orders addressed to it only; a unit-bound key: its subtree's.",
    ),
    # cards
    "list_cards": ("黄红牌列表 · Cards", "A department key sees its own department's."),
    "score": (
        "部门考核 · A department's monthly score",
        "A department key sees its own department's.",
    ),
    "appeal": (
        "申诉 · The carded department appeals",
        "Only the carded department, while the card is active.",
    ),
    "decide": ("申诉裁定 · Uphold or revoke an appealed card", ""),
    # outbox
    "list_messages": (
        "消息投递 · Webhooks and callbacks: pending, delivered, failed",
        "The city's: a key bound to a unit gets 403.",
    ),
    "retry": ("重新投递 · Retry a failed message", "The city's: a key bound to a unit gets 403."),
    # stats and reports
    "conduct": (
        "作风 · Cases by kind and trigger; 能办不办 per department",
        "A unit-bound key reads its own unit's (and may name a unit below it).",
    ),
    "reviews": (
        "答复审核 · Replies reviewed: approved, sent back, waiting, per department",
        "A unit-bound key reads its own unit's (and may name a unit below it).",
    ),
    "supervision": (
        "督办与提级 · Orders and escalations in figures",
        "A unit-bound key reads its own unit's (and may name a unit below it).",
    ),
    "summary": ("总体数据 · The headline figures", ""),
    "departments": ("部门数据 · Figures per department", ""),
    "categories": ("问题类别 · Figures per blockage category", ""),
    "trend": ("趋势 · Figures per day", ""),
    "common_issues": ("共性问题 · Recurring topics among the period's cases", ""),
    "monthly_report": ("月度报告 · The monthly report, as JSON or an Excel workbook", ""),
}
