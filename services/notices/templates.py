"""What each notice says: short Chinese texts with `$name` placeholders.

`string.Template`, not `str.format`: the texts are data an administrator will edit, and a
template must not reach into objects (`{case.__class__}`); `$name` only substitutes names.
"""

from __future__ import annotations

import math
from string import Template

SEGMENT = 70
"""Characters in one SMS of Chinese text (UCS-2); a longer text is sent in parts of 67."""
PART = 67

DEFAULTS: dict[str, str] = {
    "registered": (
        "【$signature】您的诉求已登记，编号$case_no，跟踪码$tracking_code，由$department首问负责。"
    ),
    "assigned": "【$signature】您的诉求$case_no已交$department办理，$due前答复您。",
    "transferred": "【$signature】您的诉求$case_no已转交$department办理，$due前答复您。",
    "suspended": "【$signature】您的诉求$case_no暂停办理：$reason。恢复后告知您新时限。",
    "resumed": "【$signature】您的诉求$case_no已恢复办理，$due前答复您。",
    "extended": "【$signature】您的诉求$case_no办理时限延至$due：$reason。",
    "replied": (
        "【$signature】您的诉求$case_no已答复：$reply 请回复两位数字加$code评价："
        "首位1满意2基本满意3不满意，次位1已解决2未解决，如11$code。"
    ),
    "rating_review": (
        "【$signature】您对诉求$case_no的不满意评价已收到，我们将复核答复，并告知您重新办理"
        "或维持原答复的结果。"
    ),
    "reopened": "【$signature】您的诉求$case_no已重新办理，由$department跟进。",
    "upheld": "【$signature】您的诉求$case_no经复核维持原答复：$reason 诉求已办结。",
    "closed": "【$signature】您的诉求$case_no已办结，感谢您的监督。",
}
"""The built-in text of every notice, used until an administrator saves one of their own."""

PLACEHOLDERS = frozenset(
    {"signature", "case_no", "tracking_code", "department", "due", "reason", "reply", "code"}
)

REPLY_CHARS = 40
"""How much of a department's answer a notice quotes; the whole answer is on the tracking page."""


def render(template: str, values: dict[str, str]) -> str:
    """The text, every placeholder filled; a value a step did not give reads as empty."""
    return Template(template).substitute({name: values.get(name, "") for name in PLACEHOLDERS})


def segments(text: str) -> int:
    """How many SMS the text takes (what the provider bills)."""
    return 1 if len(text) <= SEGMENT else math.ceil(len(text) / PART)


def quoted(answer: str | None) -> str:
    """The start of an answer, cut where a notice must stop."""
    if not answer:
        return ""
    answer = " ".join(answer.split())
    return answer if len(answer) <= REPLY_CHARS else answer[: REPLY_CHARS - 1] + "…"
